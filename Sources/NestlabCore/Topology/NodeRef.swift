/// A node of a cluster: a VM (machine or machine group) or a bare-metal host.
public enum NodeRef: Sendable, Hashable, CustomStringConvertible {
    case machine(String)
    case host(String)

    public var description: String {
        switch self {
        case .machine(let m): return m
        case .host(let h): return "host:\(h)"
        }
    }
}
