/// A Kubernetes release, `X.Y.Z`.
public struct KubernetesVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `1.33.1` or `v1.33.1`.
    public init(_ string: String) throws {
        var text = Substring(string)
        if text.hasPrefix("v") { text = text.dropFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let major = Int(parts[0]), let minor = Int(parts[1]), let patch = Int(parts[2])
        else { throw KubeError.invalidKubernetesVersion(string) }
        self.init(major: major, minor: minor, patch: patch)
    }

    /// `1.33.1`
    public var description: String { "\(major).\(minor).\(patch)" }
    /// `v1.33.1`, the form kubeadm and dl.k8s.io use.
    public var tag: String { "v\(description)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}
