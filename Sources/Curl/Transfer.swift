import CCurl
import CCurlShims
import Foundation
import Synchronization

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
