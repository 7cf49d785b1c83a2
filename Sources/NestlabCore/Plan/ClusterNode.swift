/// One node of a cluster, resolved: a VM of the lab or a bare-metal host.
public struct ClusterNode: Sendable {
    public enum Kind: Sendable {
        case vm(Machine)
        case host(LabHost)
    }
    public var name: String
    public var address: String
    public var kind: Kind
    public var isControlPlane: Bool
    public var bootstrap: NodeBootstrap
}
