import CCurl
import CCurlShims
import Foundation
import Synchronization

/// One HTTP response header.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// How a transfer chooses a proxy.
public enum ProxyPolicy: Sendable, Hashable {
    /// libcurl's own environment handling: `http_proxy`, `https_proxy`, `HTTPS_PROXY`,
    /// `ALL_PROXY` and `no_proxy` (libcurl ignores upper-case `HTTP_PROXY` on purpose).
    case environment
    /// Never use a proxy, whatever the environment says (for lab-internal addresses).
    case none
    /// Use this proxy URL.
    case url(String)
}

/// A flag the async side sets to stop a transfer running on its own thread.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func cancel() { flag.store(true, ordering: .relaxed) }
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Runs blocking libcurl work off Swift's cooperative thread pool.
///
/// `curl_easy_perform` blocks for the whole transfer. On the cooperative pool (one thread
/// per core, two here) a couple of downloads would starve every other task, so each
/// transfer gets its own thread and is bridged back with a continuation.
enum TransferThread {
    static func run<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) -> T) async -> T {
        let flag = CancellationFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
                let thread = Thread { continuation.resume(returning: body(flag)) }
                thread.name = "nestlab-curl"
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
    }
}

/// TLS material for a transfer. Verification of the server is never turned off.
struct TLSSettings: Sendable, Hashable {
    var caFile: String?
    var clientCertificate: String?
    var clientKey: String?
}

/// Settings shared by every request the module makes.
struct RequestSettings: Sendable {
    var connectTimeout: Duration
    /// Whole-transfer limit; nil for none (large downloads rely on the low-speed limit).
    var timeout: Duration?
    var lowSpeedLimit: Int?
    var lowSpeedTime: Duration?
    var proxy: ProxyPolicy
    var tls: TLSSettings
    var userAgent: String
    var bufferSize: Int?
    var acceptEncoding: Bool
}

/// Receives a response body; called on the transfer thread only.
protocol BodySink: AnyObject {
    /// Called before the first body byte with the final response's status and headers.
    /// Return false to abort the transfer (the caller inspects the sink afterwards).
    func begin(status: Int, headers: [HTTPHeader]) -> Bool
    /// Return false to abort (e.g. a write error, which the sink records).
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Bytes of the resource already present before this request (resume offset).
    var baseOffset: Int64 { get }
}

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

extension EasyHandle {
    /// Applies the options every nestlab request uses.
    func configure(url: String, settings: RequestSettings) throws(CurlError) {
        try set(CURLOPT_URL, url, name: "CURLOPT_URL")
        // Transfers run on their own threads; without NOSIGNAL libcurl uses SIGALRM for
        // DNS timeouts, which is unsafe in a multi-threaded process.
        try set(CURLOPT_NOSIGNAL, true, name: "CURLOPT_NOSIGNAL")
        try set(CURLOPT_PROTOCOLS_STR, "http,https", name: "CURLOPT_PROTOCOLS_STR")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", name: "CURLOPT_REDIR_PROTOCOLS_STR")
        try set(CURLOPT_FOLLOWLOCATION, true, name: "CURLOPT_FOLLOWLOCATION")
        try set(CURLOPT_MAXREDIRS, 10, name: "CURLOPT_MAXREDIRS")
        try set(CURLOPT_USERAGENT, settings.userAgent, name: "CURLOPT_USERAGENT")
        try set(CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeout.milliseconds, name: "CURLOPT_CONNECTTIMEOUT_MS")
        if let timeout = settings.timeout {
            try set(CURLOPT_TIMEOUT_MS, timeout.milliseconds, name: "CURLOPT_TIMEOUT_MS")
        }
        if let limit = settings.lowSpeedLimit, let time = settings.lowSpeedTime {
            // libcurl measures this window in whole seconds.
            let seconds = max(1, Int((Double(time.milliseconds) / 1000).rounded(.up)))
            try set(CURLOPT_LOW_SPEED_LIMIT, max(1, limit), name: "CURLOPT_LOW_SPEED_LIMIT")
            try set(CURLOPT_LOW_SPEED_TIME, seconds, name: "CURLOPT_LOW_SPEED_TIME")
        }
        if let bufferSize = settings.bufferSize {
            try set(CURLOPT_BUFFERSIZE, bufferSize, name: "CURLOPT_BUFFERSIZE")
        }
        if settings.acceptEncoding {
            // "" = every encoding this libcurl can decode; the body arrives decoded.
            try set(CURLOPT_ACCEPT_ENCODING, "", name: "CURLOPT_ACCEPT_ENCODING")
        }
        switch settings.proxy {
        case .environment: break  // libcurl reads the proxy variables itself
        case .none: try set(CURLOPT_PROXY, "", name: "CURLOPT_PROXY")
        case .url(let proxy): try set(CURLOPT_PROXY, proxy, name: "CURLOPT_PROXY")
        }
        // Verification stays on even though it is libcurl's default: no caller can turn it off.
        try set(CURLOPT_SSL_VERIFYPEER, true, name: "CURLOPT_SSL_VERIFYPEER")
        try set(CURLOPT_SSL_VERIFYHOST, 2, name: "CURLOPT_SSL_VERIFYHOST")
        if let caFile = settings.tls.caFile {
            try set(CURLOPT_CAINFO, caFile, name: "CURLOPT_CAINFO")
            // Trust only the given CA, not also a compiled-in CA directory.
            try set(CURLOPT_CAPATH, nil, name: "CURLOPT_CAPATH")
        }
        if let certificate = settings.tls.clientCertificate {
            try set(CURLOPT_SSLCERT, certificate, name: "CURLOPT_SSLCERT")
            try set(CURLOPT_SSLCERTTYPE, "PEM", name: "CURLOPT_SSLCERTTYPE")
        }
        if let key = settings.tls.clientKey {
            try set(CURLOPT_SSLKEY, key, name: "CURLOPT_SSLKEY")
            try set(CURLOPT_SSLKEYTYPE, "PEM", name: "CURLOPT_SSLKEYTYPE")
        }
    }
}

extension TransferFailure {
    /// Maps a libcurl result to a reason a user can act on.
    static func classify(
        code: CURLcode, detail: String, url: String, status: Int?,
        tls: TLSSettings, handshakeCompleted: Bool = false,
        attempts: Int = 1
    ) -> TransferFailure {
        let lowered = detail.lowercased()
        var context: String?
        let reason: Reason
        switch code {
        case CURLE_COULDNT_CONNECT:
            reason = lowered.contains("timed out") || lowered.contains("timeout") ? .timedOut : .connectionRefused
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            reason = .hostNotFound
        case CURLE_OPERATION_TIMEDOUT:
            // The low-speed limit and the plain timeouts share this code; the buffer tells them apart.
            reason = lowered.contains("too slow") ? .tooSlow : .timedOut
        case CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
            CURLE_HTTP2, CURLE_HTTP2_STREAM:
            if let alert = tlsAlertReason(lowered, tls: tls, context: &context) {
                reason = alert
            } else if handshakeCompleted && status == nil {
                reason = .closedAfterTLSHandshake
                context = tls.clientCertificate
            } else {
                reason = .connectionLost
            }
        case CURLE_PEER_FAILED_VERIFICATION:
            reason = .serverCertificateUntrusted
            context = tls.caFile.map { "CA file \($0)" }
        case CURLE_SSL_CACERT_BADFILE:
            reason = .caFileUnusable
            context = tls.caFile
        case CURLE_SSL_CERTPROBLEM:
            reason = .clientCertificateUnusable
            context = [tls.clientCertificate, tls.clientKey].compactMap { $0 }.joined(separator: " / ")
        case CURLE_SSL_CONNECT_ERROR:
            reason = tlsAlertReason(lowered, tls: tls, context: &context) ?? .tlsHandshake
        case CURLE_ABORTED_BY_CALLBACK:
            reason = .cancelled
        default:
            reason = .other
        }
        return TransferFailure(
            reason: reason, code: Int(code.rawValue), curlMessage: CurlGlobal.message(for: code),
            detail: detail, url: url, httpStatus: status, attempts: attempts, context: context)
    }

    /// ``classify(code:detail:url:status:tls:handshakeCompleted:attempts:)`` for a numeric code.
    static func classify(
        rawCode: Int, detail: String, url: String, status: Int?, tls: TLSSettings,
        handshakeCompleted: Bool = false
    ) -> TransferFailure {
        classify(
            code: CURLcode(rawValue: UInt32(rawCode)), detail: detail, url: url, status: status, tls: tls,
            handshakeCompleted: handshakeCompleted)
    }

    /// TLS alerts from the server about our client certificate. With TLS 1.3 they arrive
    /// after the handshake, as a read error, so they are looked for under several codes.
    private static func tlsAlertReason(_ detail: String, tls: TLSSettings, context: inout String?) -> Reason? {
        if detail.contains("certificate required") { return .clientCertificateRequired }
        let rejected = [
            "alert bad certificate", "alert unknown ca", "alert certificate unknown",
            "alert unsupported certificate", "alert certificate expired",
            "alert certificate revoked", "alert access denied", "alert decrypt error",
        ]
        if rejected.contains(where: detail.contains) {
            if tls.clientCertificate == nil { return .clientCertificateRequired }
            context = tls.clientCertificate
            return .clientCertificateRejected
        }
        if detail.contains("alert handshake failure") && tls.clientCertificate == nil {
            // TLS 1.2 servers answer a missing required client certificate this way.
            return .clientCertificateRequired
        }
        return nil
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
