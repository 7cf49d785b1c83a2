import Curl
import Foundation

/// What `prune` removes.
public enum PruneScope: Sendable, Hashable {
    /// Blobs that no existing topology file uses (records of deleted topologies are dropped).
    case unreferenced
    /// Everything: every blob, the index, and partial downloads.
    case all
}
