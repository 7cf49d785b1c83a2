import Yams

// kubeadm configuration files, built as Yams nodes.
//
// Pinned formats:
// - kubeadm.k8s.io/v1beta4 (Kubernetes 1.31+), kubernetes
//   cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go: InitConfiguration
//   (bootstrapTokens, localAPIEndpoint, nodeRegistration with kubeletExtraArgs as a
//   list of {name, value}), ClusterConfiguration (clusterName, kubernetesVersion,
//   controlPlaneEndpoint, networking, apiServer.certSANs, encryptionAlgorithm with
//   values ECDSA-P256 | ECDSA-P384 | RSA-2048 | RSA-3072 | RSA-4096), JoinConfiguration
//   (discovery.bootstrapToken.{apiServerEndpoint, token, caCertHashes}).
// - kubelet.config.k8s.io/v1beta1 KubeletConfiguration (cgroupDriver, failSwapOn,
//   cpuManagerPolicy, reservedSystemCPUs, topologyManagerPolicy).

/// Renders the kubeadm config files for one node.
public enum KubeadmConfig {
    public static let apiVersion = "kubeadm.k8s.io/v1beta4"
    public static let kubeletAPIVersion = "kubelet.config.k8s.io/v1beta1"

    /// Node labels every node of the cluster registers with, so RuntimeClass
    /// nodeSelectors match without a kubectl call from each node.
    public static func nodeLabels(_ cluster: ClusterSpec) -> [String] {
        var labels: [String] = []
        if cluster.runtimes.kata != nil { labels.append("\(KataSpec.nodeLabel.key)=\(KataSpec.nodeLabel.value)") }
        if cluster.runtimes.urunc != nil { labels.append("\(UruncSpec.nodeLabel.key)=\(UruncSpec.nodeLabel.value)") }
        return labels
    }

    static func nodeRegistration(_ cluster: ClusterSpec, _ node: NodeSpec, isInit: Bool) -> Node {
        var args: [Node] = [
            YAMLBuilder.map([("name", YAMLBuilder.str("node-ip")), ("value", YAMLBuilder.str(node.ip))])
        ]
        let labels = nodeLabels(cluster)
        if !labels.isEmpty {
            args.append(
                YAMLBuilder.map([
                    ("name", YAMLBuilder.str("node-labels")),
                    ("value", YAMLBuilder.str(labels.joined(separator: ","))),
                ]))
        }
        var pairs: [(String, Node)] = [
            ("name", YAMLBuilder.str(node.name)),
            ("criSocket", YAMLBuilder.str(ContainerdConfig.socket)),
            ("kubeletExtraArgs", YAMLBuilder.seq(args)),
        ]
        // An empty list (not an absent key) is what tells kubeadm to skip its control-plane taint.
        if isInit, cluster.controlPlaneSchedulable { pairs.append(("taints", YAMLBuilder.seq([]))) }
        return YAMLBuilder.map(pairs)
    }

    /// `InitConfiguration`: the pre-chosen token and this node's API endpoint.
    public static func initConfiguration(_ cluster: ClusterSpec, _ node: NodeSpec) -> Node {
        let port = cluster.controlPlaneEndpoint.split(separator: ":").last.flatMap { Int($0) } ?? 6443
        return YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str(apiVersion)),
            ("kind", YAMLBuilder.str("InitConfiguration")),
            (
                "bootstrapTokens",
                YAMLBuilder.seq([
                    YAMLBuilder.map([
                        ("token", YAMLBuilder.str(cluster.bootstrapToken)),
                        ("description", YAMLBuilder.str("nestlab join token")),
                        // Never expires: nestlab rebuilds single workers long after init with the same token.
                        ("ttl", YAMLBuilder.str("0s")),
                        ("usages", YAMLBuilder.strs(["signing", "authentication"])),
                        ("groups", YAMLBuilder.strs(["system:bootstrappers:kubeadm:default-node-token"])),
                    ])
                ])
            ),
            (
                "localAPIEndpoint",
                YAMLBuilder.map([
                    ("advertiseAddress", YAMLBuilder.str(node.ip)),
                    ("bindPort", YAMLBuilder.int(port)),
                ])
            ),
            ("nodeRegistration", nodeRegistration(cluster, node, isInit: true)),
        ])
    }

    /// `ClusterConfiguration`: version, endpoint, networks, SANs, ECDSA-P256 keys (our CA is P-256).
    public static func clusterConfiguration(_ cluster: ClusterSpec, _ node: NodeSpec) -> Node {
        var sans = [node.ip, node.name]
        let endpointHost = String(cluster.controlPlaneEndpoint.split(separator: ":").first ?? "")
        if !endpointHost.isEmpty { sans.append(endpointHost) }
        sans.append(contentsOf: node.extraCertSANs)
        var unique: [String] = []
        for san in sans where !unique.contains(san) { unique.append(san) }
        return YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str(apiVersion)),
            ("kind", YAMLBuilder.str("ClusterConfiguration")),
            ("clusterName", YAMLBuilder.str(cluster.name)),
            ("kubernetesVersion", YAMLBuilder.str(cluster.kubernetesVersion.tag)),
            ("controlPlaneEndpoint", YAMLBuilder.str(cluster.controlPlaneEndpoint)),
            (
                "networking",
                YAMLBuilder.map([
                    ("podSubnet", YAMLBuilder.str(cluster.podSubnet)),
                    ("serviceSubnet", YAMLBuilder.str(cluster.serviceSubnet)),
                ])
            ),
            ("apiServer", YAMLBuilder.map([("certSANs", YAMLBuilder.strs(unique))])),
            ("encryptionAlgorithm", YAMLBuilder.str("ECDSA-P256")),
        ])
    }

    /// `KubeletConfiguration`: systemd cgroups and the CPU/topology managers.
    public static func kubeletConfiguration(_ cluster: ClusterSpec) -> Node {
        var pairs: [(String, Node)] = [
            ("apiVersion", YAMLBuilder.str(kubeletAPIVersion)),
            ("kind", YAMLBuilder.str("KubeletConfiguration")),
            ("cgroupDriver", YAMLBuilder.str("systemd")),
        ]
        if cluster.kubelet.swapMayExist { pairs.append(("failSwapOn", YAMLBuilder.bool(false))) }
        pairs.append(("cpuManagerPolicy", YAMLBuilder.str(cluster.kubelet.cpuManagerPolicy.rawValue)))
        if let reserved = cluster.kubelet.reservedSystemCPUs, !reserved.isEmpty {
            pairs.append(("reservedSystemCPUs", YAMLBuilder.str(reserved)))
        }
        pairs.append(("topologyManagerPolicy", YAMLBuilder.str(cluster.kubelet.topologyManagerPolicy.rawValue)))
        return YAMLBuilder.map(pairs)
    }

    /// `JoinConfiguration`: token discovery pinned by the CA hash.
    public static func joinConfiguration(_ cluster: ClusterSpec, _ node: NodeSpec) -> Node {
        YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str(apiVersion)),
            ("kind", YAMLBuilder.str("JoinConfiguration")),
            (
                "discovery",
                YAMLBuilder.map([
                    (
                        "bootstrapToken",
                        YAMLBuilder.map([
                            ("apiServerEndpoint", YAMLBuilder.str(cluster.controlPlaneEndpoint)),
                            ("token", YAMLBuilder.str(cluster.bootstrapToken)),
                            ("caCertHashes", YAMLBuilder.strs([cluster.discoveryHash])),
                        ])
                    )
                ])
            ),
            ("nodeRegistration", nodeRegistration(cluster, node, isInit: false)),
        ])
    }

    /// The file `kubeadm init --config` reads: Init, Cluster and Kubelet configurations.
    public static func renderInit(_ cluster: ClusterSpec, _ node: NodeSpec) throws -> String {
        try YAMLBuilder.render([
            initConfiguration(cluster, node), clusterConfiguration(cluster, node), kubeletConfiguration(cluster),
        ])
    }

    /// The file `kubeadm join --config` reads. The kubelet config comes from the cluster.
    public static func renderJoin(_ cluster: ClusterSpec, _ node: NodeSpec) throws -> String {
        try YAMLBuilder.render([joinConfiguration(cluster, node)])
    }
}
