import CCurl
import Crypto
import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
