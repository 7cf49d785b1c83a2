import Foundation

/// Pinned versions that nestlab knows without asking the internet.
///
/// A topology may name a Kubernetes minor (`1.33`); it resolves to the patch
/// release below, which the lock file then records. Exact `X.Y.Z` versions are
/// taken as written. Update this table when adopting a new release.
public enum Versions {
    /// Kubernetes minor → patch release nestlab was checked against.
    /// kubeadm v1beta4 (which nestlab renders) needs 1.31 or newer.
    public static let kubernetes: [String: String] = [
        "1.31": "1.31.12",
        "1.32": "1.32.8",
        "1.33": "1.33.4",
        "1.34": "1.34.0",
    ]
    public static let defaultKubernetes = "1.33"
    public static let minimumKubernetesMinor = 31

    public static let flannel = "v0.26.7"
    public static let calico = "v3.30.2"
    public static let kata = "3.20.0"
    public static let urunc = "0.6.0"
    public static let kubevirt = "v1.6.0"
    public static let runc = "1.3.0"
    public static let firecracker = "v1.12.1"

    public enum Resolution: Equatable, Sendable {
        case resolved(String)
        case tooOld(String)
        case unknownMinor(String)
        case malformed(String)
    }

    /// Resolves `1.33` to `1.33.4`; accepts `1.33.4` and `v1.33.4`.
    public static func resolveKubernetes(_ text: String) -> Resolution {
        let t = text.hasPrefix("v") ? String(text.dropFirst()) : text
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        // ASCII digits only: `Character.isNumber` also takes Arabic-Indic and full-width digits.
        guard (2...3).contains(parts.count),
            parts.allSatisfy({ (1...4).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }),
            parts[0] == "1", let minor = Int(parts[1])
        else { return .malformed(text) }
        if minor < minimumKubernetesMinor { return .tooOld(text) }
        if parts.count == 3 { return .resolved(t) }
        if let patch = kubernetes["1.\(minor)"] { return .resolved(patch) }
        return .unknownMinor(text)
    }

    public static var knownMinors: String {
        kubernetes.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.joined(separator: ", ")
    }
}

extension Character {
    /// 0-9 only (`isNumber` and `isWholeNumber` also take other scripts' digits).
    public var isASCIIDigit: Bool { isASCII && isNumber }
    /// 0-9, a-f, A-F only (`isHexDigit` also takes the full-width forms).
    public var isASCIIHexDigit: Bool { isASCII && isHexDigit }
}
