/// The Kata knobs the topology sets (`[hypervisor.*]` in configuration-*.toml).
public struct KataKnobs: Sendable, Hashable {
    /// `default_vcpus`, upstream 1.
    public var defaultVCPUs: Int
    /// `default_memory` in MiB, upstream 2048.
    public var defaultMemoryMiB: Int
    /// `enable_hugepages`, upstream false. Guest RAM from hugetlbfs; pods must request hugepages.
    public var enableHugepages: Bool
    /// `shared_fs`, upstream virtio-fs. Not applied to Firecracker, which has none.
    public var sharedFS: KataSharedFS
    /// `virtio_fs_cache`, upstream auto. Only meaningful with virtio-fs.
    public var virtioFSCache: KataVirtioFSCache

    public init(
        defaultVCPUs: Int = 1, defaultMemoryMiB: Int = 2048, enableHugepages: Bool = false,
        sharedFS: KataSharedFS = .virtioFS, virtioFSCache: KataVirtioFSCache = .auto
    ) {
        self.defaultVCPUs = defaultVCPUs
        self.defaultMemoryMiB = defaultMemoryMiB
        self.enableHugepages = enableHugepages
        self.sharedFS = sharedFS
        self.virtioFSCache = virtioFSCache
    }

    /// The `key = value` lines for one hypervisor's config, in a fixed order.
    public func lines(for hypervisor: KataHypervisor) -> [(key: String, value: TOMLValue)] {
        var out: [(key: String, value: TOMLValue)] = [
            ("default_vcpus", .integer(defaultVCPUs)),
            ("default_memory", .integer(defaultMemoryMiB)),
            ("enable_hugepages", .boolean(enableHugepages)),
        ]
        if hypervisor != .firecracker {
            out.append(("shared_fs", .string(sharedFS.rawValue)))
            if sharedFS == .virtioFS { out.append(("virtio_fs_cache", .string(virtioFSCache.rawValue))) }
        }
        return out
    }
}
