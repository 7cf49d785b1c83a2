/// A profile with every knob decided.
public struct ResolvedProfile: Sendable, Hashable {
    public var name: String
    public var cpuMode: CPUMode = .default
    public var nested: Bool = false
    public var pinning: Pinning = .none
    public var emulatorPin: Pinning = .none
    public var iothreadPin: Pinning = .none
    public var hugepages: HugePages = .none
    public var numa: NUMAMode = .none
    public var numaNode: Int?
    public var diskCache: DiskCache = .default
    public var diskIO: DiskIO = .default
    public var iothread: Bool = false
    public var netQueues: Queues = .none
    public var vhost: Bool = true

    public init(name: String) { self.name = name }
}
