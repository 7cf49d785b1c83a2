import Foundation

/// What the C callbacks reach through their userdata pointer.
final class TransferState {
    let handle: EasyHandle
    let sink: BodySink
    let flag: CancellationFlag
    let onProgress: ((_ received: Int64, _ expected: Int64?) -> Void)?
    private(set) var headers: [HTTPHeader] = []
    private(set) var bodyStarted = false
    private(set) var sinkRefused = false

    init(
        handle: EasyHandle, sink: BodySink, flag: CancellationFlag,
        onProgress: ((Int64, Int64?) -> Void)?
    ) {
        self.handle = handle
        self.sink = sink
        self.flag = flag
        self.onProgress = onProgress
    }

    fileprivate func header(_ line: String) {
        let trimmed = line.trimmingTrailingNewlines()
        if trimmed.hasPrefix("HTTP/") {
            // A new response begins (redirect, 100-continue): earlier headers are not its own.
            headers.removeAll()
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
        headers.append(HTTPHeader(name: name, value: value))
    }

    fileprivate func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !bodyStarted {
            bodyStarted = true
            guard sink.begin(status: handle.responseCode, headers: headers) else {
                sinkRefused = true
                return false
            }
        }
        return sink.write(bytes)
    }

    /// Lets a sink see the final response when the body was empty (no write callback ran).
    func finishWithoutBody() -> Bool {
        guard !bodyStarted else { return true }
        bodyStarted = true
        if !sink.begin(status: handle.responseCode, headers: headers) {
            sinkRefused = true
            return false
        }
        return true
    }

    fileprivate func progress(_ received: Int64, _ expected: Int64) -> Bool {
        if flag.isCancelled { return false }
        onProgress?(received, expected > 0 ? expected : nil)
        return true
    }

    /// Installs the write, header and progress callbacks. The state must outlive `perform`.
    func install() throws(CurlError) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        try handle.setWriteCallback(
            { buffer, size, count, userData in
                guard let userData else { return 0 }
                let state = Unmanaged<TransferState>.fromOpaque(userData).takeUnretainedValue()
                let length = size * count
                let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
                return state.body(bytes) ? length : 0
            }, userData: me)
        try handle.setHeaderCallback(
            { buffer, size, count, userData in
                guard let userData else { return 0 }
                let state = Unmanaged<TransferState>.fromOpaque(userData).takeUnretainedValue()
                let length = size * count
                let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
                state.header(String(decoding: bytes, as: UTF8.self))
                return length
            }, userData: me)
        try handle.setProgressCallback(
            { userData, downloadTotal, downloadNow, _, _ in
                guard let userData else { return 1 }
                let state = Unmanaged<TransferState>.fromOpaque(userData).takeUnretainedValue()
                return state.progress(Int64(downloadNow), Int64(downloadTotal)) ? 0 : 1
            }, userData: me)
    }
}
