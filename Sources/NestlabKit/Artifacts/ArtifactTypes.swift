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

/// One blob as the cache index records it.
public struct CacheEntry: Sendable, Hashable, Codable {
    public var sha256: String
    /// The name it was first fetched under.
    public var name: String
    /// The URL it was first fetched from.
    public var url: String
    /// Further URLs that produced the same bytes (mirrors, renamed releases).
    public var otherURLs: [String]
    public var size: Int64
    public var fetchedAt: Date
    /// Topology files (absolute paths, sorted) that use this blob.
    public var usedBy: [String]

    public init(
        sha256: String, name: String, url: String, otherURLs: [String] = [], size: Int64,
        fetchedAt: Date, usedBy: [String] = []
    ) {
        self.sha256 = sha256
        self.name = name
        self.url = url
        self.otherURLs = otherURLs
        self.size = size
        self.fetchedAt = fetchedAt
        self.usedBy = usedBy
    }

    /// Whether the blob was fetched from `url`.
    public func isFrom(_ url: String) -> Bool { self.url == url || otherURLs.contains(url) }
}

/// What `prune` removes.
public enum PruneScope: Sendable, Hashable {
    /// Blobs that no existing topology file uses (records of deleted topologies are dropped).
    case unreferenced
    /// Everything: every blob, the index, and partial downloads.
    case all
}

/// What `prune` did.
public struct PruneReport: Sendable, Hashable, Codable {
    /// The entries whose blobs were removed.
    public var removed: [CacheEntry]
    /// Bytes freed, counting blobs and partial downloads.
    public var bytesFreed: Int64
}

/// Errors from the artifact cache.
public enum ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The downloaded bytes do not match the digest pinned for the artifact.
    case digestMismatch(name: String, url: String, expected: String, actual: String)
    /// The download failed; the Curl error says why.
    case download(name: String, CurlError)
    /// The request cannot be fetched as given.
    case invalidRequest(name: String, reason: String)
    /// A cached blob no longer hashes to its name (disk corruption or tampering); it was removed.
    case corruptBlob(sha256: String, actual: String)
    /// A file operation in the cache failed; `errno` is the C error number.
    case file(operation: String, path: String, errno: Int32)
    /// The index file cannot be read.
    case unreadableIndex(path: String, reason: String)

    public var description: String {
        switch self {
        case .digestMismatch(let name, let url, let expected, let actual):
            return "artifact '\(name)' from \(url) does not match its pinned digest: expected sha256 \(expected), "
                + "downloaded bytes have sha256 \(actual); nothing was cached (update the pin only if the new file is trusted)"
        case .download(let name, let error):
            return "cannot fetch artifact '\(name)': \(error)"
        case .invalidRequest(let name, let reason):
            return "artifact '\(name)': \(reason)"
        case .corruptBlob(let sha256, let actual):
            return "cached blob \(sha256) now hashes to \(actual); it was removed and will be downloaded again"
        case .file(let operation, let path, let code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .unreadableIndex(let path, let reason):
            return "cannot read the artifact index \(path): \(reason) (remove it to rebuild the cache)"
        }
    }
}
