import Curl
import Foundation

/// What `prune` did.
public struct PruneReport: Sendable, Hashable, Codable {
    /// The entries whose blobs were removed.
    public var removed: [CacheEntry]
    /// Bytes freed, counting blobs and partial downloads.
    public var bytesFreed: Int64
}
