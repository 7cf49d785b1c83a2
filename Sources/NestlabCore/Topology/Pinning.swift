public enum Pinning: Sendable, Hashable, CustomStringConvertible {
    /// Floating: no pinning.
    case none
    /// nestlab picks host CPUs: vCPUs 1:1 on free CPUs, emulator and I/O threads on reserved ones.
    case auto
    /// These host CPUs.
    case cpus(CPUSet)

    public var description: String {
        switch self {
        case .none: return "none"
        case .auto: return "auto"
        case .cpus(let s): return s.description
        }
    }
}
