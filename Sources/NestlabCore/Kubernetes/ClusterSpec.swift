// Input types of the node bootstrap. The lead maps the topology onto these;
// everything here is plain data with documented defaults, and `validate()`
// checks what a renderer relies on.

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
