import Foundation
import Synchronization

/// A snapshot of one transfer, given to a ``ProgressHandler``.
public struct TransferProgress: Sendable, Equatable {
    /// Where the transfer is in its life.
    public enum Phase: Sendable, Equatable {
        /// The first response arrived; `totalBytes` is known if the server sent a length.
        case started
        /// Bytes arrived.
        case running
        /// A transient failure; the transfer waits `delay` and tries again.
        case retrying(attempt: Int, delay: Duration, reason: String)
        /// The transfer finished and was verified.
        case finished
        /// The transfer gave up.
        case failed(String)
    }

    /// Unique per transfer within the process, so a renderer can tell transfers apart.
    public var id: Int
    /// Short name shown to the user (artifact name or file name).
    public var label: String
    public var url: String
    public var phase: Phase
    /// Bytes of the resource on disk so far, including a resumed prefix.
    public var bytesDone: Int64
    /// The resource's full size, if the server announced it.
    public var totalBytes: Int64?
    /// Bytes reused from an earlier partial download.
    public var resumedFrom: Int64
    /// Average rate of the bytes received so far in this attempt, in bytes per second.
    public var bytesPerSecond: Double
    /// Time since the transfer started.
    public var elapsed: Duration

    public init(
        id: Int, label: String, url: String, phase: Phase, bytesDone: Int64, totalBytes: Int64?,
        resumedFrom: Int64, bytesPerSecond: Double, elapsed: Duration
    ) {
        self.id = id
        self.label = label
        self.url = url
        self.phase = phase
        self.bytesDone = bytesDone
        self.totalBytes = totalBytes
        self.resumedFrom = resumedFrom
        self.bytesPerSecond = bytesPerSecond
        self.elapsed = elapsed
    }

    /// Fraction done in 0...1, if the total is known.
    public var fraction: Double? {
        guard let totalBytes, totalBytes > 0 else { return nil }
        return min(1, Double(bytesDone) / Double(totalBytes))
    }

    /// Estimated time left at the current rate, if it can be estimated.
    public var eta: Duration? {
        guard let totalBytes, bytesPerSecond > 0, totalBytes >= bytesDone else { return nil }
        return .milliseconds(Int64(Double(totalBytes - bytesDone) / bytesPerSecond * 1000))
    }
}

/// Receives progress snapshots. Called from transfer threads: it must be quick and thread-safe.
public typealias ProgressHandler = @Sendable (TransferProgress) -> Void
