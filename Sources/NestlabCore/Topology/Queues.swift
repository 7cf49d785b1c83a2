public enum Queues: Sendable, Hashable, CustomStringConvertible {
    case none
    /// One queue per vCPU.
    case auto
    case count(Int)

    public var description: String {
        switch self {
        case .none: return "none"
        case .auto: return "auto"
        case .count(let n): return "\(n)"
        }
    }
}
