/// One VM, with every decision made: names, addresses, pinning, accelerator.
public struct Machine: Sendable, Hashable {
    public var name: String
    public var group: String
    public var host: LabHost
    public var image: Image
    public var profile: ResolvedProfile
    public var vcpus: Int
    public var memory: ByteSize
    public var disk: ByteSize
    public var accel: Accel
    public var cpuVendor: CPUVendor
    public var nics: [NIC]
    /// vCPU i → host CPUs (1:1 for nestlab's pinning), empty when floating.
    public var vcpuPins: [CPUSet]
    public var emulatorPin: CPUSet?
    public var iothreadPin: CPUSet?
    /// NUMA node for memory (numatune, hugepage nodeset), when NUMA placement is asked for.
    public var numaNode: Int?
    public var cluster: String?

    public var domainName: String
    public var overlayVolume: String
    /// A stable UUID derived from the lab and machine names.
    public var uuid: String

    public var primaryAddress: IPv4? { nics.first?.address }
}
