/// Tuning, as named knobs. Optional fields inherit from `extends` and finally
/// from libvirt's defaults; `ResolvedProfile` has every field filled.
public struct Profile: Sendable, Hashable {
    public var name: String
    public var extends: String?
    public var cpuMode: CPUMode?
    public var nested: Bool?
    public var pinning: Pinning?
    public var emulatorPin: Pinning?
    public var iothreadPin: Pinning?
    public var hugepages: HugePages?
    public var numa: NUMAMode?
    public var numaNode: Int?
    public var diskCache: DiskCache?
    public var diskIO: DiskIO?
    public var iothread: Bool?
    public var netQueues: Queues?
    public var vhost: Bool?

    public init(name: String) { self.name = name }
}
