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
