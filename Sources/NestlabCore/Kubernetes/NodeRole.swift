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
