/// Kata Containers from the static release tarball, installed into /opt/kata.
public struct KataSpec: Sendable, Hashable {
    /// For example `3.20.0`.
    public var version: String
    /// `kata-static-VER-amd64.tar.xz` (3.x) or `.tar.zst` (4.x); it unpacks to ./opt/kata.
    public var tarball: Artifact
    /// Default `[.qemu]`.
    public var hypervisors: [KataHypervisor]
    public var knobs: KataKnobs
    /// Default 160Mi / 250m for every class.
    public var overhead: PodOverhead
    /// Pool for kata-fc when urunc does not bring one.
    public var devmapperPool: DevmapperPool?

    public init(
        version: String, tarball: Artifact, hypervisors: [KataHypervisor] = [.qemu],
        knobs: KataKnobs = KataKnobs(), overhead: PodOverhead = .kataDefault,
        devmapperPool: DevmapperPool? = nil
    ) {
        self.version = version
        self.tarball = tarball
        self.hypervisors = hypervisors
        self.knobs = knobs
        self.overhead = overhead
        self.devmapperPool = devmapperPool
    }

    /// Where the script keeps nestlab's tuned copy of each hypervisor config.
    public static let configDirectory = "/etc/kata-containers/nestlab"
    public static let shimPath = "/opt/kata/bin/containerd-shim-kata-v2"
    public static let shippedConfigDirectory = "/opt/kata/share/defaults/kata-containers"
    /// Node label set through the kubelet, matched by the RuntimeClass nodeSelector (as kata-deploy labels).
    public static let nodeLabel = (key: "katacontainers.io/kata-runtime", value: "true")
}
