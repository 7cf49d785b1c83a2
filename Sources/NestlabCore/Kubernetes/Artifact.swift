/// One downloadable file, pinned by its sha256.
///
/// The lead resolves URLs and digests (and records them in the lock file); the
/// node scripts download with curl and refuse a file whose digest differs.
public struct Artifact: Sendable, Hashable {
    /// Upstream URL, for example `https://dl.k8s.io/release/v1.33.1/bin/linux/amd64/kubeadm`.
    public var url: String
    /// Lower-case hex SHA-256 of the file.
    public var sha256: String

    public init(url: String, sha256: String) {
        self.url = url
        self.sha256 = sha256
    }

    /// The last path component of the upstream URL (query and fragment removed).
    public var fileName: String {
        let path = url.split(separator: "?", maxSplits: 1)[0].split(separator: "#", maxSplits: 1)[0]
        return path.split(separator: "/").last.map(String.init) ?? "artifact"
    }

    /// Where a node fetches it: upstream, or `MIRROR/<sha256>/<fileName>` when a
    /// lab-network mirror is given. The mirror layout is content-addressed so one
    /// cache directory serves every version without collisions.
    public func resolvedURL(mirror: String?) -> String {
        guard let mirror, !mirror.isEmpty, isPinned else { return url }
        let base = mirror.hasSuffix("/") ? String(mirror.dropLast()) : mirror
        return "\(base)/\(sha256)/\(fileName)"
    }

    /// Digest placeholder: the node verifies against the `.sha256` file upstream publishes
    /// next to the artifact (dl.k8s.io, cri-tools), because no lock file pins it yet.
    public static let upstreamDigest = "upstream"
    /// Digest placeholder: nothing pins this artifact yet; the node refuses to install it
    /// and says to run `nestlab cache fetch` (fail closed, never unverified).
    public static let unpinnedDigest = "unpinned"

    /// Whether the digest is a real SHA-256 (not a placeholder).
    public var isPinned: Bool { sha256 != Self.upstreamDigest && sha256 != Self.unpinnedDigest }

    func validate(_ what: String) throws {
        if !isPinned { return }
        let hex = sha256.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
        guard sha256.count == 64, hex else { throw KubeError.invalidSHA256(artifact: what, value: sha256) }
        let okScheme = url.hasPrefix("https://") || url.hasPrefix("http://")
        let clean = url.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        guard okScheme, clean else { throw KubeError.invalidArtifactURL(url) }
    }
}
