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
