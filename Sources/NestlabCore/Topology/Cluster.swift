public struct Cluster: Sendable, Hashable {
    public enum CNI: String, Sendable, Hashable, CaseIterable, Codable { case flannel, calico }
    public enum CPUManagerPolicy: String, Sendable, Hashable, CaseIterable, Codable { case none, `static` }
    public enum TopologyManagerPolicy: String, Sendable, Hashable, CaseIterable, Codable {
        case none
        case bestEffort = "best-effort"
        case restricted
        case singleNumaNode = "single-numa-node"
    }

    public var name: String
    /// As written: `1.33` or `1.33.4`.
    public var kubernetes: String
    public var controlPlane: [NodeRef]
    public var workers: [NodeRef]
    public var cni: CNI
    public var cniVersion: String?
    public var podCIDR: IPv4Network
    public var serviceCIDR: IPv4Network
    /// `distro` (the OS package) or a pinned containerd release `X.Y.Z`.
    public var containerd: String
    public var runtimes: [RuntimeSpec]
    public var cpuManagerPolicy: CPUManagerPolicy
    public var reservedCPUs: CPUSet?
    public var topologyManagerPolicy: TopologyManagerPolicy

    public var allNodes: [NodeRef] { controlPlane + workers }
}
