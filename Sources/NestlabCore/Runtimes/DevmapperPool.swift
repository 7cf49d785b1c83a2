/// The devmapper thin pool on loop-backed sparse files.
public struct DevmapperPool: Sendable, Hashable {
    /// dm device name, containerd `pool_name`. Default `containerd-pool` (urunc's guide).
    public var name: String
    /// Where the sparse data/metadata files live. Default the snapshotter's root.
    public var directory: String
    /// Sparse data file size, `truncate -s` syntax. Default `20G`.
    public var dataSize: String
    /// Sparse metadata file size. Default `1G`.
    public var metadataSize: String
    /// containerd `base_image_size`, each snapshot's device size. Default `10GB`.
    public var baseImageSize: String

    public init(
        name: String = "containerd-pool",
        directory: String = "/var/lib/containerd/io.containerd.snapshotter.v1.devmapper",
        dataSize: String = "20G", metadataSize: String = "1G", baseImageSize: String = "10GB"
    ) {
        self.name = name
        self.directory = directory
        self.dataSize = dataSize
        self.metadataSize = metadataSize
        self.baseImageSize = baseImageSize
    }
}
