import Curl
import Foundation

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
