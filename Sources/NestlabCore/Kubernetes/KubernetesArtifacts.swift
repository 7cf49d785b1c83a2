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
