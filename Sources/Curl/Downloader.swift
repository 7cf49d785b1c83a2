import CCurl
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
