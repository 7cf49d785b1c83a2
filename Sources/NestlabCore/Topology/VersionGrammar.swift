import Foundation

/// The grammar of a release version a topology names. Each one ends up in download URLs and
/// file paths, so it is never free text (`latest`, `../x` and `1.0/../../` are refused).
public enum VersionGrammar: Sendable {
    /// `X.Y.Z` (Kata Containers, urunc).
    case plain
    /// `vX.Y.Z` (KubeVirt, flannel, Calico).
    case prefixed

    public func matches(_ s: String) -> Bool {
        let body: Substring
        switch self {
        case .plain: body = Substring(s)
        case .prefixed:
            guard s.hasPrefix("v") else { return false }
            body = s.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { (1...4).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// What a valid version looks like, with an example.
    public func hint(example: String) -> String {
        (self == .plain ? "X.Y.Z" : "vX.Y.Z") + " in ASCII digits, e.g. \(example)"
    }
}
