import Curl
import Foundation

/// An artifact that is in the cache.
public struct CachedArtifact: Sendable, Hashable {
    public var name: String
    public var url: URL
    /// Lower-case hex SHA-256 of the bytes at `path`.
    public var sha256: String
    public var size: Int64
    /// The blob: `ROOT/artifacts/sha256/<sha256>`. Read-only; do not modify it.
    public var path: URL
    /// When the blob was downloaded.
    public var fetchedAt: Date
    /// True when this fetch downloaded the bytes; false for a cache hit.
    public var downloaded: Bool

    public init(name: String, url: URL, sha256: String, size: Int64, path: URL, fetchedAt: Date, downloaded: Bool) {
        self.name = name
        self.url = url
        self.sha256 = sha256
        self.size = size
        self.path = path
        self.fetchedAt = fetchedAt
        self.downloaded = downloaded
    }
}
