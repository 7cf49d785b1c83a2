/// urunc from its release binaries.
public struct UruncSpec: Sendable, Hashable {
    /// For example `0.6.0`.
    public var version: String
    /// `urunc_static_amd64` (or `urunc_amd64` on older releases) -> /usr/local/bin/urunc.
    public var urunc: Artifact
    /// `containerd-shim-urunc-v2_static_amd64` -> /usr/local/bin/containerd-shim-urunc-v2.
    public var shim: Artifact
    public var monitors: [UruncMonitor]
    public var pool: DevmapperPool
    /// Image of the urunc smoke pod (must carry urunc annotations); expected to reach Running.
    public var smokeImage: String

    public init(
        version: String, urunc: Artifact, shim: Artifact, monitors: [UruncMonitor] = [.qemu],
        pool: DevmapperPool = DevmapperPool(),
        smokeImage: String = "harbor.nbfc.io/nubificus/urunc/redis-hvt-rumprun-block:latest"
    ) {
        self.version = version
        self.urunc = urunc
        self.shim = shim
        self.monitors = monitors
        self.pool = pool
        self.smokeImage = smokeImage
    }

    /// Node label set through the kubelet (as urunc-deploy labels).
    public static let nodeLabel = (key: "urunc.io/urunc-runtime", value: "true")
}
