/// The host summary from `virNodeGetInfo`.
public struct NodeInfo: Sendable, Hashable {
    /// CPU model string, e.g. `x86_64`.
    public let model: String
    /// Memory size in KiB.
    public let memoryKiB: UInt64
    /// Active CPUs.
    public let cpus: Int
    /// Expected CPU frequency; 0 when unknown.
    public let mhz: Int
    /// NUMA cells (1 on machines without NUMA).
    public let numaNodes: Int
    /// CPU sockets per NUMA cell.
    public let sockets: Int
    /// Cores per socket.
    public let cores: Int
    /// Threads per core.
    public let threads: Int
}
