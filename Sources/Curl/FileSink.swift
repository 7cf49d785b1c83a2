import Crypto
import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a download's body to the partial file and hashes it on the way.
final class FileSink: BodySink {
    let fd: Int32
    let path: String
    let hashing: HashPipeline
    private(set) var baseOffset: Int64
    private(set) var stored: Int64 = 0
    private(set) var status = 0
    /// Set when the response cannot extend the partial file.
    private(set) var restartReason: String?
    /// The total size from a 416's `Content-Range: bytes */N`.
    private(set) var unsatisfiableTotal: Int64?
    private(set) var writeErrno: Int32?
    private var pending: [UInt8] = []
    private static let batchSize = 1 << 20
    private let tracker: ProgressTracker
    private let contentLength: () -> Int64?

    init(
        fd: Int32, path: String, hasher: SHA256, offset: Int64, tracker: ProgressTracker,
        contentLength: @escaping () -> Int64?
    ) {
        self.fd = fd
        self.path = path
        hashing = HashPipeline(startingWith: hasher)
        pending.reserveCapacity(FileSink.batchSize)
        baseOffset = offset
        self.tracker = tracker
        self.contentLength = contentLength
    }

    func begin(status: Int, headers: [HTTPHeader]) -> Bool {
        self.status = status
        let contentRange = headers.last { $0.name.lowercased() == "content-range" }?.value
        switch status {
        case 206:
            guard let range = contentRange.flatMap(ContentRange.init), range.start == baseOffset else {
                restartReason =
                    "server answered the range request from byte \(baseOffset) with Content-Range '\(contentRange ?? "")'"
                truncate()
                return false
            }
            tracker.responded(offset: baseOffset, totalBytes: range.total ?? contentLength().map { $0 + baseOffset })
            return true
        case 200..<300:
            // The server ignored the Range header and sends the whole file: start again.
            if baseOffset > 0 { truncate() }
            tracker.responded(offset: 0, totalBytes: contentLength())
            return true
        case 416:
            unsatisfiableTotal = contentRange.flatMap(ContentRange.init)?.total
            return false
        default:
            return false
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // libcurl hands over at most 16 KiB per call (CURL_MAX_WRITE_SIZE) whatever the
        // receive buffer; batching into 1 MiB keeps write(2) calls and hash hand-offs few.
        pending.append(contentsOf: bytes)
        stored += Int64(bytes.count)
        return pending.count < FileSink.batchSize || flush()
    }

    /// Writes the batched bytes to the file and passes them to the hasher. Must run when
    /// the transfer ends, so that a partial file holds every byte received.
    func flush() -> Bool {
        guard !pending.isEmpty, writeErrno == nil else { return writeErrno == nil }
        let ok = pending.withUnsafeBytes { raw -> Bool in
            guard var base = raw.baseAddress else { return true }
            var remaining = raw.count
            while remaining > 0 {
                let written = posixWrite(fd, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    writeErrno = errno
                    return false
                }
                base += written
                remaining -= written
            }
            return true
        }
        guard ok else { return false }
        let batch = pending
        pending = []
        pending.reserveCapacity(FileSink.batchSize)
        hashing.append(batch)
        return true
    }

    func truncate() {
        pending.removeAll(keepingCapacity: true)
        _ = ftruncate(fd, 0)
        _ = lseek(fd, 0, SEEK_SET)
        hashing.reset()
        baseOffset = 0
    }
}

/// `write(2)`, named apart from ``BodySink/write(_:)``.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
