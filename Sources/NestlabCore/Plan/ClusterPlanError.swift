public enum ClusterPlanError: Error, CustomStringConvertible {
    case noAddress(node: String)
    case missingMaterial(cluster: String)

    public var description: String {
        switch self {
        case .noAddress(let n): return "cluster node '\(n)' has no address on a lab network"
        case .missingMaterial(let c): return "no PKI or token for cluster '\(c)'"
        }
    }
}
