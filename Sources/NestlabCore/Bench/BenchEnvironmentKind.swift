import Foundation

/// Where an environment sits on the isolation ladder. Environment names are free labels: the
/// baseline is bare metal, a name containing "mitigated" is a mitigated nested VM, any other
/// name a nested VM.
public enum BenchEnvironmentKind: Int, Sendable, Hashable, Comparable, CaseIterable {
    case bareMetal, nested, mitigated

    public init(environment: String, baseline: String) {
        if environment == baseline {
            self = .bareMetal
        } else if environment.lowercased().contains("mitigated") {
            self = .mitigated
        } else {
            self = .nested
        }
    }

    public var label: String {
        switch self {
        case .bareMetal: return "bare metal"
        case .nested: return "nested"
        case .mitigated: return "nested, mitigated"
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
