// Input types of the node bootstrap. The lead maps the topology onto these;
// everything here is plain data with documented defaults, and `validate()`
// checks what a renderer relies on.

/// A Kubernetes release, `X.Y.Z`.
public struct KubernetesVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `1.33.1` or `v1.33.1`.
    public init(_ string: String) throws {
        var text = Substring(string)
        if text.hasPrefix("v") { text = text.dropFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let major = Int(parts[0]), let minor = Int(parts[1]), let patch = Int(parts[2])
        else { throw KubeError.invalidKubernetesVersion(string) }
        self.init(major: major, minor: minor, patch: patch)
    }

    /// `1.33.1`
    public var description: String { "\(major).\(minor).\(patch)" }
    /// `v1.33.1`, the form kubeadm and dl.k8s.io use.
    public var tag: String { "v\(description)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}

/// One downloadable file, pinned by its sha256.
///
/// The lead resolves URLs and digests (and records them in the lock file); the
/// node scripts download with curl and refuse a file whose digest differs.
public struct Artifact: Sendable, Hashable {
    /// Upstream URL, for example `https://dl.k8s.io/release/v1.33.1/bin/linux/amd64/kubeadm`.
    public var url: String
    /// Lower-case hex SHA-256 of the file.
    public var sha256: String

    public init(url: String, sha256: String) {
        self.url = url
        self.sha256 = sha256
    }

    /// The last path component of the upstream URL (query and fragment removed).
    public var fileName: String {
        let path = url.split(separator: "?", maxSplits: 1)[0].split(separator: "#", maxSplits: 1)[0]
        return path.split(separator: "/").last.map(String.init) ?? "artifact"
    }

    /// Where a node fetches it: upstream, or `MIRROR/<sha256>/<fileName>` when a
    /// lab-network mirror is given. The mirror layout is content-addressed so one
    /// cache directory serves every version without collisions.
    public func resolvedURL(mirror: String?) -> String {
        guard let mirror, !mirror.isEmpty, isPinned else { return url }
        let base = mirror.hasSuffix("/") ? String(mirror.dropLast()) : mirror
        return "\(base)/\(sha256)/\(fileName)"
    }

    /// Digest placeholder: the node verifies against the `.sha256` file upstream publishes
    /// next to the artifact (dl.k8s.io, cri-tools), because no lock file pins it yet.
    public static let upstreamDigest = "upstream"
    /// Digest placeholder: nothing pins this artifact yet; the node refuses to install it
    /// and says to run `nestlab cache fetch` (fail closed, never unverified).
    public static let unpinnedDigest = "unpinned"

    /// Whether the digest is a real SHA-256 (not a placeholder).
    public var isPinned: Bool { sha256 != Self.upstreamDigest && sha256 != Self.unpinnedDigest }

    func validate(_ what: String) throws {
        if !isPinned { return }
        let hex = sha256.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
        guard sha256.count == 64, hex else { throw KubeError.invalidSHA256(artifact: what, value: sha256) }
        let okScheme = url.hasPrefix("https://") || url.hasPrefix("http://")
        let clean = url.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        guard okScheme, clean else { throw KubeError.invalidArtifactURL(url) }
    }
}

/// The CNI plugin that gives pods their network.
public struct CNISpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// flannel (default); its manifest expects pod CIDR 10.244.0.0/16 and is patched otherwise.
        case flannel
        /// Calico; reads the pod CIDR from kubeadm's config.
        case calico
    }
    public var kind: Kind
    /// Pinned release, for example `v0.26.7` (flannel) or `v3.29.3` (calico). Recorded, not parsed.
    public var version: String
    /// The release manifest: `kube-flannel.yml` or `calico.yaml`.
    public var manifest: Artifact

    public init(kind: Kind = .flannel, version: String, manifest: Artifact) {
        self.kind = kind
        self.version = version
        self.manifest = manifest
    }
}

/// Where the standard CNI plugins (bridge, loopback, portmap, ...) come from.
public enum CNIPluginsSource: Sendable, Hashable {
    /// Debian/Ubuntu `containernetworking-plugins` (installs to /usr/lib/cni; linked into /opt/cni/bin).
    case distro
    /// The upstream release tarball `cni-plugins-linux-amd64-vX.Y.Z.tgz`, extracted to /opt/cni/bin.
    case release(Artifact)
}

/// kubeadm, kubelet, kubectl and crictl at the pinned version.
public struct KubernetesArtifacts: Sendable, Hashable {
    /// `https://dl.k8s.io/release/vX.Y.Z/bin/linux/amd64/kubeadm`
    public var kubeadm: Artifact
    public var kubelet: Artifact
    public var kubectl: Artifact
    /// cri-tools release `crictl-vX.Y.Z-linux-amd64.tar.gz` (one member, `crictl`).
    public var crictl: Artifact
    public var cniPlugins: CNIPluginsSource

    public init(
        kubeadm: Artifact, kubelet: Artifact, kubectl: Artifact, crictl: Artifact,
        cniPlugins: CNIPluginsSource = .distro
    ) {
        self.kubeadm = kubeadm
        self.kubelet = kubelet
        self.kubectl = kubectl
        self.crictl = crictl
        self.cniPlugins = cniPlugins
    }

    /// The dl.k8s.io URLs for `version`, with digests the lead looked up.
    public static func dlK8sURL(_ binary: String, version: KubernetesVersion, arch: String = "amd64") -> String {
        "https://dl.k8s.io/release/\(version.tag)/bin/linux/\(arch)/\(binary)"
    }
}

/// kubelet CPU management (`KubeletConfiguration`).
public struct KubeletTuning: Sendable, Hashable {
    public enum CPUManagerPolicy: String, Sendable, Hashable { case none, `static` }
    public enum TopologyManagerPolicy: String, Sendable, Hashable {
        case none
        case bestEffort = "best-effort"
        case restricted
        case singleNUMANode = "single-numa-node"
    }
    /// Default `none`; `static` gives Guaranteed pods with integer CPUs exclusive cores.
    public var cpuManagerPolicy: CPUManagerPolicy
    /// cpuset kept for the system (`reservedSystemCPUs`), for example `0` or `0-1`. Needed by `static`.
    public var reservedSystemCPUs: String?
    /// Default `none`.
    public var topologyManagerPolicy: TopologyManagerPolicy
    /// `failSwapOn: false` when the node may have swap (default true: cloud images and
    /// bare-metal hosts often do; node-prep turns swap off anyway).
    public var swapMayExist: Bool

    public init(
        cpuManagerPolicy: CPUManagerPolicy = .none, reservedSystemCPUs: String? = nil,
        topologyManagerPolicy: TopologyManagerPolicy = .none, swapMayExist: Bool = true
    ) {
        self.cpuManagerPolicy = cpuManagerPolicy
        self.reservedSystemCPUs = reservedSystemCPUs
        self.topologyManagerPolicy = topologyManagerPolicy
        self.swapMayExist = swapMayExist
    }

    func validate() throws {
        if let set = reservedSystemCPUs, !Self.isCPUSet(set) { throw KubeError.invalidCPUSet(set) }
        if cpuManagerPolicy == .static, (reservedSystemCPUs ?? "").isEmpty {
            throw KubeError.kubeletConflict(
                "kubelet cpuManagerPolicy 'static' needs reservedSystemCPUs (for example \"0\"): the kubelet refuses static without a CPU reservation"
            )
        }
    }

    static func isCPUSet(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        for item in s.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
            else { return false }
            if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a > b { return false }
        }
        return true
    }
}

/// A containerd release line, as far as its config format is concerned.
public struct ContainerdVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }
    public var description: String { "\(major).\(minor)" }
    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    /// Debian 12's package (1.6.20).
    public static let debian12 = ContainerdVersion(1, 6)
    /// Ubuntu 22.04/24.04 packages (1.7.x).
    public static let ubuntu = ContainerdVersion(1, 7)

    /// Config `version = 3` for 2.x, `version = 2` for 1.x.
    public var configVersion: Int { major >= 2 ? 3 : 2 }
    /// Per-runtime `snapshotter` exists from 1.7 (containerd PR 6899).
    public var supportsRuntimeSnapshotter: Bool { self >= ContainerdVersion(1, 7) }
    /// CNI `bin_dirs` (a list) replaces `bin_dir` in 2.1; `bin_dir` is gone in 2.2.
    public var usesCNIBinDirs: Bool { self >= ContainerdVersion(2, 1) }
}

/// How containerd gets onto the node.
public enum ContainerdSource: Sendable, Hashable {
    /// The distribution package (`apt-get install containerd runc`), whose line the lead
    /// knows from the image: 1.6 on Debian 12, 1.7 on Ubuntu.
    case distro(ContainerdVersion)
    /// A pinned upstream 2.x release: `containerd-2.X.Y-linux-amd64.tar.gz` (extracted to
    /// /usr/local) plus `runc.amd64` (to /usr/local/sbin/runc).
    case release(version: ContainerdVersion, tarball: Artifact, runc: Artifact)

    public var version: ContainerdVersion {
        switch self {
        case .distro(let v): return v
        case .release(let v, _, _): return v
        }
    }
}

/// Everything that is the same on every node of one cluster.
public struct ClusterSpec: Sendable, Hashable {
    /// Cluster name (kubeadm `clusterName`).
    public var name: String
    public var kubernetesVersion: KubernetesVersion
    /// `IP:6443` of the (first) control plane; workers join here.
    public var controlPlaneEndpoint: String
    /// Default `10.244.0.0/16` (flannel's default).
    public var podSubnet: String
    /// Default `10.96.0.0/12` (kubeadm's default).
    public var serviceSubnet: String
    public var cni: CNISpec
    /// `[a-z0-9]{6}.[a-z0-9]{16}`, made by nestlab before any VM exists.
    public var bootstrapToken: String
    /// The cluster CA certificate (PEM), pre-made by nestlab.
    public var caCertificatePEM: String
    /// `sha256:<hex>` of the CA's SubjectPublicKeyInfo.
    public var discoveryHash: String
    public var kubernetes: KubernetesArtifacts
    public var containerd: ContainerdSource
    public var kubelet: KubeletTuning
    public var runtimes: RuntimeSet
    /// Pause image, matched to the Kubernetes minor (3.10 for 1.31 to 1.33).
    public var sandboxImage: String
    /// Base URL of nestlab's artifact mirror on the lab network, or nil for upstream.
    public var mirrorBaseURL: String?
    /// Number of nodes the smoke tests wait for before they start.
    public var expectedNodeCount: Int
    /// Keep the control plane free of its NoSchedule taint (set when the cluster has no workers).
    public var controlPlaneSchedulable: Bool

    public init(
        name: String, kubernetesVersion: KubernetesVersion, controlPlaneEndpoint: String,
        podSubnet: String = "10.244.0.0/16", serviceSubnet: String = "10.96.0.0/12",
        cni: CNISpec, bootstrapToken: String, caCertificatePEM: String, discoveryHash: String,
        kubernetes: KubernetesArtifacts, containerd: ContainerdSource = .distro(.debian12),
        kubelet: KubeletTuning = KubeletTuning(), runtimes: RuntimeSet = RuntimeSet(),
        sandboxImage: String = "registry.k8s.io/pause:3.10", mirrorBaseURL: String? = nil,
        expectedNodeCount: Int = 1, controlPlaneSchedulable: Bool = false
    ) {
        self.name = name
        self.kubernetesVersion = kubernetesVersion
        self.controlPlaneEndpoint = controlPlaneEndpoint
        self.podSubnet = podSubnet
        self.serviceSubnet = serviceSubnet
        self.cni = cni
        self.bootstrapToken = bootstrapToken
        self.caCertificatePEM = caCertificatePEM
        self.discoveryHash = discoveryHash
        self.kubernetes = kubernetes
        self.containerd = containerd
        self.kubelet = kubelet
        self.runtimes = runtimes
        self.sandboxImage = sandboxImage
        self.mirrorBaseURL = mirrorBaseURL
        self.expectedNodeCount = expectedNodeCount
        self.controlPlaneSchedulable = controlPlaneSchedulable
    }
}

/// What a node does in its cluster.
public enum NodeRole: Sendable, Hashable {
    /// Runs `kubeadm init` with the pre-made CA, whose key (PEM) it needs.
    case controlPlane(caKeyPEM: String)
    /// Runs `kubeadm join`.
    case worker

    public var isControlPlane: Bool {
        if case .controlPlane = self { return true }
        return false
    }
}

/// One node of a cluster.
public struct NodeSpec: Sendable, Hashable {
    /// Kubernetes node name (lower-case DNS name).
    public var name: String
    /// The node's address on the lab network (kubelet `node-ip`, API advertise address).
    public var ip: String
    public var role: NodeRole
    /// Extra API-server certificate SANs (control plane only); the node IP and name are always in.
    public var extraCertSANs: [String]
    /// What the user should change when /dev/kvm is missing on this node, naming the topology
    /// key (for a VM, e.g. "set profiles.tuned.cpu.nested: true for machine worker-0").
    /// Shown in node-prep's preflight failure.
    public var kvmMissingHint: String?

    public init(name: String, ip: String, role: NodeRole, extraCertSANs: [String] = [], kvmMissingHint: String? = nil) {
        self.name = name
        self.ip = ip
        self.role = role
        self.extraCertSANs = extraCertSANs
        self.kvmMissingHint = kvmMissingHint
    }
}
