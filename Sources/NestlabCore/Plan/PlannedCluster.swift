/// A cluster of the lab with its bootstrap rendered for every node.
public struct PlannedCluster: Sendable {
    public var cluster: Cluster
    public var spec: ClusterSpec
    public var nodes: [ClusterNode]
    public var artifacts: [ArtifactRef]
    /// `https://IP:6443`
    public var apiServer: String
    public var controlPlane: ClusterNode? { nodes.first { $0.isControlPlane } }
}
