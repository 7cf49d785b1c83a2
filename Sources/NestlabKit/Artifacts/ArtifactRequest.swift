import Curl
import Foundation

/// Something a topology needs from the network: a base image, a binary, a manifest.
public struct ArtifactRequest: Sendable, Hashable, Codable {
    /// Name shown to the user and recorded in the index (e.g. "ubuntu-24.04", "kubeadm").
    public var name: String
    /// Where to download it from (http or https).
    public var url: URL
    /// Pinned SHA-256 digest (64 hex characters). When set, the cache is looked up by
    /// digest and the download must match it.
    public var sha256: String?
    /// A `SHA256SUMS` or single-file `.sha256` URL to verify against when no digest is pinned.
    public var checksumsURL: URL?

    public init(name: String, url: URL, sha256: String? = nil, checksumsURL: URL? = nil) {
        self.name = name
        self.url = url
        self.sha256 = sha256
        self.checksumsURL = checksumsURL
    }
}
