import Crypto
import Foundation

/// Computes a download's SHA-256 on its own thread, so the transfer thread only copies
/// the bytes.
///
/// SHA-256 costs roughly as much CPU as receiving the bytes does; done inside libcurl's
/// write callback it sits on the transfer's critical path. The queue is bounded, so a
/// hasher that falls behind slows the transfer instead of holding the file in memory.
final class HashPipeline: @unchecked Sendable {  // all mutable state is guarded by `condition`
    private enum Item {
        case bytes([UInt8])
        /// The file was truncated: start the digest again.
        case reset
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var queuedBytes = 0
    private var closed = false
    private var digest: String?
    private let limit: Int

    /// - Parameters:
    ///   - hasher: the state after the bytes already on disk.
    ///   - limit: bytes that may wait for the hasher before `append` blocks.
    init(startingWith hasher: SHA256, limit: Int = 8 << 20) {
        self.limit = limit
        // The thread holds the pipeline until `finish` lets it end.
        let thread = Thread { [self] in run(hasher) }
        thread.name = "nestlab-sha256"
        thread.start()
    }

    /// Queues `bytes`; blocks while the hasher is `limit` bytes behind.
    func append(_ bytes: [UInt8]) {
        condition.lock()
        while queuedBytes >= limit { condition.wait() }
        items.append(.bytes(bytes))
        queuedBytes += bytes.count
        condition.broadcast()
        condition.unlock()
    }

    /// Restarts the digest from zero bytes.
    func reset() {
        condition.lock()
        items.append(.reset)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for every queued byte to be hashed and returns the hex digest. Must be called
    /// once the transfer is over, whatever its outcome, so that the thread ends.
    func finish() -> String {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
        while true {
            if let digest { return digest }
            condition.wait()
        }
    }

    private func run(_ initial: SHA256) {
        var hasher = initial
        while true {
            condition.lock()
            while items.isEmpty && !closed { condition.wait() }
            let batch = items
            items.removeAll(keepingCapacity: true)
            queuedBytes = 0
            let done = closed && batch.isEmpty
            if done { digest = SHA256Digest.hex(hasher.finalize()) }
            condition.broadcast()
            condition.unlock()
            if done { return }
            for item in batch {
                switch item {
                case .bytes(let bytes): bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                case .reset: hasher = SHA256()
                }
            }
        }
    }
}
