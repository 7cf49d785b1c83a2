/// What `Domain.info()` reports.
public struct DomainInfo: Sendable, Hashable {
    public let state: Domain.State
    /// Maximum memory in KiB.
    public let maxMemoryKiB: UInt64
    /// Current memory in KiB.
    public let memoryKiB: UInt64
    /// Number of vCPUs.
    public let vcpus: Int
    /// CPU time used, in nanoseconds.
    public let cpuTimeNanoseconds: UInt64
}
