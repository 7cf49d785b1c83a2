import CCurl
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings for a ``Downloader``.
public struct DownloadOptions: Sendable {
    /// Limit for establishing a connection.
    public var connectTimeout: Duration = .seconds(30)
    /// The low-speed limit: a transfer slower than `lowSpeedLimit` bytes per second for
    /// `lowSpeedTime` fails (and is retried). libcurl counts the time in whole seconds.
    public var lowSpeedLimit: Int = 1024
    public var lowSpeedTime: Duration = .seconds(30)
    /// Consecutive failed tries before a download gives up on transient failures
    /// (connection errors, timeouts, stalls, 5xx). A failed try that still extended the
    /// partial file starts a new count, so a download that keeps progressing over a flaky
    /// link is not abandoned; the total is capped at 20 times this number.
    public var maxAttempts: Int = 5
    /// Wait before the second attempt; doubles each time up to `maxBackoff` (±20% jitter).
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    /// Downloads that may run at the same time through one ``Downloader``.
    public var maxConcurrentTransfers: Int = 4
    /// libcurl's receive buffer; larger buffers mean fewer write and hash calls.
    public var bufferSize: Int = 512 * 1024
    public var proxy: ProxyPolicy = .environment
    /// A PEM CA bundle to trust instead of the system store (for a private mirror).
    public var caFile: String?
    public var userAgent: String = "nestlab"

    public init() {}
}

/// The outcome of a verified download.
public struct DownloadResult: Sendable, Equatable {
    /// The URL asked for.
    public var url: URL
    /// Where the verified file now is.
    public var path: URL
    /// Lower-case hex SHA-256 of the file.
    public var sha256: String
    public var size: Int64
    /// Requests made for the body (1 when nothing went wrong).
    public var attempts: Int
    /// Bytes taken from an earlier partial download rather than the network.
    public var resumedFrom: Int64
    public var elapsed: Duration
}

/// Downloads files with libcurl: resumable, verified, retried, bounded in parallel.
///
/// Each download writes to `DEST.partial`, resumes it with a Range request when it
/// exists (hashing the bytes already there first), checks the SHA-256 while the bytes
/// stream in, and renames the file into place only when the digest is right. When a
/// resumed file fails the check, the whole file is fetched once more before the
/// mismatch is reported (the old prefix may be from another version of the file). TLS
/// verification is always on; proxies come from the environment unless
/// ``DownloadOptions/proxy`` says otherwise.
public final class Downloader: Sendable {
    public let options: DownloadOptions
    private let progress: ProgressHandler?
    private let limiter: ConcurrencyLimiter

    public init(options: DownloadOptions = DownloadOptions(), progress: ProgressHandler? = nil) {
        self.options = options
        self.progress = progress
        limiter = ConcurrencyLimiter(limit: options.maxConcurrentTransfers)
    }

    /// Downloads `url` to `destination` and verifies it.
    ///
    /// - Parameters:
    ///   - url: an http or https URL.
    ///   - destination: a file path; its directory must exist. An existing file is replaced.
    ///   - checksum: what to verify against.
    ///   - label: the name progress shows (default: the URL's file name).
    /// - Throws: ``CurlError``: `.checksumMismatch` (the partial file is deleted),
    ///   `.httpStatus`, `.transfer`, `.file`, and checksum-file errors.
    public func download(
        from url: URL, to destination: URL, checksum: Checksum,
        label: String? = nil
    ) async throws -> DownloadResult {
        try Self.validate(url)
        let expected: String?
        switch checksum {
        case .sha256(let digest): expected = try SHA256Digest.normalize(digest)
        case .checksumFile(let checksumsURL): expected = try await digest(for: url, checksumsURL: checksumsURL)
        case .none: expected = nil
        }
        let tracker = ProgressTracker(label: label ?? url.lastPathComponent, url: url.absoluteString, handler: progress)
        do {
            return try await limiter.withPermit {
                try await self.transfer(url: url, destination: destination, expected: expected, tracker: tracker)
            }
        } catch {
            tracker.failed(String(describing: error))
            throw error
        }
    }

    /// Fetches a checksum file and returns the digest it lists for `url`'s file name.
    public func digest(for url: URL, checksumsURL: URL) async throws -> String {
        try Self.validate(checksumsURL)
        let text = try await fetchText(checksumsURL)
        return try ChecksumFile.digest(for: url.lastPathComponent, in: text, url: checksumsURL.absoluteString)
    }

    /// GETs a small text resource (checksum files), retrying like a download.
    func fetchText(_ url: URL) async throws -> String {
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let settings = requestSettings(timeout: .seconds(120))
            let outcome = await TransferThread.run { flag in
                MemoryRequest.perform(
                    url: url.absoluteString, method: .get, settings: settings,
                    limit: 16 * 1024 * 1024, flag: flag)
            }
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return String(decoding: response.body, as: UTF8.self)
            case .success(let response):
                let error = CurlError.httpStatus(status: response.status, url: url.absoluteString, attempts: attempt)
                guard response.status >= 500, attempt < options.maxAttempts else { throw error }
            case .failure(.transfer(var failure)):
                failure.attempts = attempt
                guard failure.isTransient, attempt < options.maxAttempts else { throw CurlError.transfer(failure) }
            case .failure(let error):
                throw error
            }
            try await Task.sleep(for: backoff(attempt))
        }
    }

    // MARK: the retry loop

    /// The counts the retry loop keeps across attempts.
    private struct RetryLedger {
        var attempts = 0
        var failuresWithoutProgress = 0
        var furthest: Int64 = 0  // largest partial size seen, to tell real progress from a restart
        var resumedFrom: Int64?
        var restartedAfterMismatch = false
    }

    /// What every attempt of one download shares.
    private struct Attempt {
        var url: URL
        var destination: URL
        var expected: String?
        var tracker: ProgressTracker
    }

    /// What the retry loop does after an attempt.
    private enum NextStep {
        case done(DownloadResult)
        case again
        case retry(reason: String)
    }

    private func transfer(
        url: URL, destination: URL, expected: String?,
        tracker: ProgressTracker
    ) async throws -> DownloadResult {
        let started = ContinuousClock.now
        let partial = destination.path + ".partial"
        let settings = requestSettings(timeout: nil)
        var ledger = RetryLedger()
        while true {
            ledger.attempts += 1
            try Task.checkCancellation()
            let outcome = await TransferThread.run { flag in
                DownloadAttempt(
                    url: url.absoluteString, partialPath: partial, settings: settings,
                    tracker: tracker, flag: flag
                ).run()
            }
            if ledger.resumedFrom == nil, let offset = outcome.startOffset { ledger.resumedFrom = offset }
            let reached = (outcome.startOffset ?? 0) + outcome.bytesStored
            let progressed = reached > ledger.furthest
            ledger.furthest = max(ledger.furthest, reached)
            let attempt = Attempt(url: url, destination: destination, expected: expected, tracker: tracker)
            let retryReason: String
            switch try next(outcome.result, attempt, progressed: progressed, started: started, &ledger) {
            case .done(let result): return result
            case .again: continue
            case .retry(let reason): retryReason = reason
            }
            let delay = backoff(max(1, ledger.failuresWithoutProgress))
            tracker.retrying(attempt: ledger.attempts + 1, delay: delay, reason: retryReason)
            try await Task.sleep(for: delay)
        }
    }

    /// A body received whole: checked against `expected` and moved to `destination`, or
    /// fetched once more from the start when a resumed prefix may belong to another version.
    private func completed(
        _ a: Attempt, digest: String, size: Int64, started: ContinuousClock.Instant, _ ledger: inout RetryLedger
    ) throws -> NextStep {
        let (url, destination, expected, tracker) = (a.url, a.destination, a.expected, a.tracker)
        let partial = destination.path + ".partial"
        if let expected, digest != expected {
            unlink(partial)  // a wrong file must not be resumed again
            if (ledger.resumedFrom ?? 0) > 0 && !ledger.restartedAfterMismatch {
                // The prefix came from an earlier run and may belong to another
                // version of the file: fetch the whole file once before giving up.
                ledger.restartedAfterMismatch = true
                ledger.resumedFrom = nil
                ledger.furthest = 0
                return .again
            }
            throw CurlError.checksumMismatch(url: url.absoluteString, expected: expected, actual: digest)
        }
        guard rename(partial, destination.path) == 0 else {
            throw CurlError.file(operation: "rename \(partial) to", path: destination.path, errno: errno)
        }
        tracker.finished(size: size)
        return .done(
            DownloadResult(
                url: url, path: destination, sha256: digest, size: size, attempts: ledger.attempts,
                resumedFrom: ledger.resumedFrom ?? 0, elapsed: ContinuousClock.now - started))
    }

    /// What an attempt's result means: the download done, another attempt at once or after a
    /// pause, or the error thrown.
    private func next(
        _ result: AttemptOutcome.Result, _ a: Attempt, progressed: Bool, started: ContinuousClock.Instant,
        _ ledger: inout RetryLedger
    ) throws -> NextStep {
        let url = a.url
        let attempts = ledger.attempts
        switch result {
        case .complete(let digest, let size):
            return try completed(a, digest: digest, size: size, started: started, &ledger)
        case .httpStatus(let status):
            let error = CurlError.httpStatus(status: status, url: url.absoluteString, attempts: attempts)
            guard status >= 500 || status == 408 || status == 429 else { throw error }
            ledger.failuresWithoutProgress += 1
            guard ledger.failuresWithoutProgress < options.maxAttempts else { throw error }
            return .retry(reason: "http \(status)")
        case .restart(let why):
            // The partial file could not be resumed (416, a mismatched Content-Range):
            // it was truncated; start over at once.
            ledger.failuresWithoutProgress += 1
            guard ledger.failuresWithoutProgress < options.maxAttempts else {
                throw CurlError.transfer(
                    TransferFailure(
                        reason: .other, code: Int(CURLE_RANGE_ERROR.rawValue),
                        curlMessage: CurlGlobal.message(for: CURLE_RANGE_ERROR), detail: why,
                        url: url.absoluteString, attempts: attempts))
            }
            return .again
        case .failed(var failure):
            failure.attempts = attempts
            if failure.reason == .cancelled { throw CancellationError() }
            ledger.failuresWithoutProgress = progressed ? 1 : ledger.failuresWithoutProgress + 1
            guard failure.isTransient, ledger.failuresWithoutProgress < options.maxAttempts,
                attempts < options.maxAttempts * 20
            else {
                throw CurlError.transfer(failure)
            }
            return .retry(reason: failure.description)
        case .error(let error):
            throw error
        }
    }

    private func backoff(_ failures: Int) -> Duration {
        let base = options.initialBackoff.seconds * pow(2, Double(min(failures - 1, 30)))
        let capped = min(base, options.maxBackoff.seconds)
        return .milliseconds(Int64(capped * Double.random(in: 0.8...1.2) * 1000))
    }

    private func requestSettings(timeout: Duration?) -> RequestSettings {
        RequestSettings(
            connectTimeout: options.connectTimeout, timeout: timeout,
            lowSpeedLimit: options.lowSpeedLimit, lowSpeedTime: options.lowSpeedTime,
            proxy: options.proxy, tls: TLSSettings(caFile: options.caFile),
            userAgent: options.userAgent, bufferSize: options.bufferSize, acceptEncoding: false)
    }

    static func validate(_ url: URL) throws(CurlError) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw .invalidURL(url.absoluteString, reason: "only http and https URLs can be downloaded")
        }
        guard url.host != nil else { throw .invalidURL(url.absoluteString, reason: "it has no host") }
    }
}

// MARK: one attempt, on the transfer thread

/// What one attempt ended with.
struct AttemptOutcome: Sendable {
    enum Result: Sendable {
        /// The whole body is in the partial file; digest and size of the file.
        case complete(sha256: String, size: Int64)
        case httpStatus(Int)
        /// The partial could not be resumed and was truncated.
        case restart(String)
        case failed(TransferFailure)
        case error(CurlError)
    }

    var result: Result
    /// Bytes that were already on disk when the response started.
    var startOffset: Int64?
    /// New bytes written in this attempt.
    var bytesStored: Int64 = 0
}

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

/// `Content-Range: bytes START-END/TOTAL` or `bytes */TOTAL`.
struct ContentRange: Equatable {
    var start: Int64?
    var total: Int64?

    init?(_ value: String) {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes") else { return nil }
        let spec = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        total = parts[1] == "*" ? nil : Int64(parts[1])
        if parts[0] == "*" {
            start = nil
        } else {
            let bounds = parts[0].split(separator: "-", maxSplits: 1)
            guard bounds.count == 2, let first = Int64(bounds[0]), Int64(bounds[1]) != nil else { return nil }
            start = first
        }
    }
}

/// One request for the rest of a download, run on a transfer thread.
struct DownloadAttempt {
    var url: String
    var partialPath: String
    var settings: RequestSettings
    var tracker: ProgressTracker
    var flag: CancellationFlag

    func run() -> AttemptOutcome {
        let fd = open(partialPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            return AttemptOutcome(result: .error(.file(operation: "open", path: partialPath, errno: errno)))
        }
        defer { close(fd) }

        // Hash what an earlier attempt (or run) left, so the digest covers the whole file.
        var hasher = SHA256()
        var offset: Int64 = 0
        if let early = hashPartial(fd, &hasher, &offset) { return early }
        tracker.beginAttempt(offset: offset)

        let handle: EasyHandle
        do {
            handle = try makeHandle(offset: offset)
        } catch {
            return AttemptOutcome(result: .error(error))
        }
        let sink = FileSink(
            fd: fd, path: partialPath, hasher: hasher, offset: offset, tracker: tracker,
            contentLength: { handle.contentLength })
        let tracker = self.tracker
        let state = TransferState(
            handle: handle, sink: sink, flag: flag,
            onProgress: { received, _ in tracker.received(received) })
        do {
            try state.install()
        } catch {
            _ = sink.hashing.finish()
            return AttemptOutcome(result: .error(error))
        }
        let code = handle.perform()
        _ = sink.flush()  // a failure is recorded in writeErrno and reported below
        // Always drain the hash thread; the digest is used only when the body is complete.
        let streamedDigest = sink.hashing.finish()
        let detail = handle.errorDetail
        let status = handle.responseCode
        var outcome = AttemptOutcome(
            result: .complete(sha256: "", size: 0), startOffset: sink.baseOffset,
            bytesStored: sink.stored)

        if let reason = sink.restartReason {
            outcome.result = .restart(reason)
        } else if let writeErrno = sink.writeErrno {
            outcome.result = .error(.file(operation: "write", path: partialPath, errno: writeErrno))
        } else if code == CURLE_OK {
            outcome.result = completed(
                state, sink, status: status, hasher: hasher, offset: offset, streamedDigest: streamedDigest)
        } else if state.sinkRefused {
            outcome.result = refused(sink, status: status, hasher: hasher, offset: offset)
        } else {
            outcome.result = .failed(
                TransferFailure.classify(
                    code: code, detail: detail, url: url,
                    status: status > 0 ? status : nil, tls: settings.tls,
                    handshakeCompleted: handle.tlsHandshakeCompleted))
        }
        return outcome
    }

    /// Hashes the partial file from its start into `hasher`, counting its bytes in `offset`;
    /// an outcome when that fails or the download is cancelled.
    private func hashPartial(_ fd: Int32, _ hasher: inout SHA256, _ offset: inout Int64) -> AttemptOutcome? {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if flag.isCancelled { return AttemptOutcome(result: .failed(cancelled())) }
            let count = read(fd, buffer.baseAddress, chunk)
            if count < 0 {
                if errno == EINTR { continue }
                return AttemptOutcome(result: .error(.file(operation: "read", path: partialPath, errno: errno)))
            }
            if count == 0 { return nil }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            offset += Int64(count)
        }
    }

    private func makeHandle(offset: Int64) throws(CurlError) -> EasyHandle {
        let handle = try EasyHandle()
        try handle.configure(url: url, settings: settings)
        if offset > 0 {
            // CURLOPT_RANGE rather than RESUME_FROM: libcurl then leaves a 200 answer
            // (server ignored the range) to us instead of failing the transfer.
            try handle.set(CURLOPT_RANGE, "\(offset)-", name: "CURLOPT_RANGE")
        }
        return handle
    }

    /// The result of a transfer that libcurl finished without an error.
    private func completed(
        _ state: TransferState, _ sink: FileSink, status: Int, hasher: SHA256, offset: Int64, streamedDigest: String
    ) -> AttemptOutcome.Result {
        _ = state.finishWithoutBody()
        if let restart = sink.restartReason {
            return .restart(restart)
        } else if status == 416 {
            // Nothing left to fetch: the partial may already hold the whole file.
            if let total = sink.unsatisfiableTotal, total == offset {
                return .complete(sha256: SHA256Digest.hex(hasher.finalize()), size: offset)
            } else {
                sink.truncate()
                return .restart("server cannot serve bytes from \(offset) on (http 416)")
            }
        } else if (200..<300).contains(status) {
            return .complete(sha256: streamedDigest, size: sink.baseOffset + sink.stored)
        } else {
            return .httpStatus(status)
        }
    }

    /// The write callback stopped a response we do not want (an error status).
    private func refused(_ sink: FileSink, status: Int, hasher: SHA256, offset: Int64) -> AttemptOutcome.Result {
        if status == 416, let total = sink.unsatisfiableTotal, total == offset {
            return .complete(sha256: SHA256Digest.hex(hasher.finalize()), size: offset)
        } else if status == 416 {
            sink.truncate()
            return .restart("server cannot serve bytes from \(offset) on (http 416)")
        } else {
            return .httpStatus(status)
        }
    }

    private func cancelled() -> TransferFailure {
        TransferFailure(
            reason: .cancelled, code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue),
            curlMessage: CurlGlobal.message(for: CURLE_ABORTED_BY_CALLBACK), detail: "", url: url)
    }
}

/// `write(2)`, named apart from ``BodySink/write(_:)``.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
