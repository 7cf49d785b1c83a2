import Foundation

/// Why libcurl failed a transfer, with everything libcurl said about it.
public struct TransferFailure: Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in terms a caller can act on.
    public enum Reason: Sendable, Equatable {
        /// Nothing listens on the port (or a firewall refused).
        case connectionRefused
        /// The host name does not resolve.
        case hostNotFound
        /// The connect or total timeout expired.
        case timedOut
        /// The low-speed limit tripped: fewer bytes per second than allowed for too long.
        case tooSlow
        /// The connection broke mid-transfer (short body, reset, empty reply).
        case connectionLost
        /// The server's certificate does not chain to the trusted CA (or the name differs).
        case serverCertificateUntrusted
        /// The CA file could not be read.
        case caFileUnusable
        /// The server demands a client certificate and none was sent.
        case clientCertificateRequired
        /// The server refused the client certificate that was sent.
        case clientCertificateRejected
        /// The client certificate or key could not be loaded.
        case clientCertificateUnusable
        /// The server closed the connection right after a completed TLS handshake, without
        /// an answer or a readable alert. With TLS 1.3 this is how a server that refuses
        /// the client certificate often looks: its alert is lost when the connection resets.
        case closedAfterTLSHandshake
        /// Another TLS handshake failure.
        case tlsHandshake
        /// The transfer was cancelled by the caller.
        case cancelled
        /// Any other libcurl failure; see `code` and `detail`.
        case other
    }

    /// What went wrong.
    public var reason: Reason
    /// The CURLcode value.
    public var code: Int
    /// `curl_easy_strerror(code)`.
    public var curlMessage: String
    /// The CURLOPT_ERRORBUFFER text (may be empty).
    public var detail: String
    /// The URL being fetched.
    public var url: String
    /// The HTTP status, if a response had started when the transfer failed.
    public var httpStatus: Int?
    /// How many attempts were made before giving up.
    public var attempts: Int
    /// Extra context for the summary, such as the CA file that did not verify the server.
    public var context: String?

    public init(
        reason: Reason, code: Int, curlMessage: String, detail: String, url: String,
        httpStatus: Int? = nil, attempts: Int = 1, context: String? = nil
    ) {
        self.reason = reason
        self.code = code
        self.curlMessage = curlMessage
        self.detail = detail
        self.url = url
        self.httpStatus = httpStatus
        self.attempts = attempts
        self.context = context
    }

    /// Whether retrying the same request may succeed.
    public var isTransient: Bool {
        switch reason {
        case .connectionRefused, .hostNotFound, .timedOut, .tooSlow, .connectionLost: return true
        default: return false
        }
    }

    public var description: String {
        let summary: String
        switch reason {
        case .connectionRefused: summary = "connection refused for \(url)"
        case .hostNotFound: summary = "cannot resolve the host of \(url)"
        case .timedOut: summary = "timed out fetching \(url)"
        case .tooSlow: summary = "transfer from \(url) stalled below the low-speed limit"
        case .connectionLost: summary = "connection lost while fetching \(url)"
        case .serverCertificateUntrusted:
            summary = "server certificate for \(url) is not trusted by \(context ?? "the system CA store")"
        case .caFileUnusable: summary = "cannot use CA file \(context ?? "(none)") for \(url)"
        case .clientCertificateRequired:
            summary = "server \(url) requires a client certificate and none was sent"
        case .clientCertificateRejected:
            summary = "server \(url) rejected the client certificate \(context ?? "")"
                .trimmingCharacters(in: [" "])
        case .clientCertificateUnusable:
            summary =
                "cannot load the client certificate or key \(context ?? "")"
                .trimmingCharacters(in: [" "]) + " for \(url)"
        case .closedAfterTLSHandshake:
            if let certificate = context {
                summary =
                    "server \(url) closed the connection after the tls handshake without answering: "
                    + "it probably rejected the client certificate \(certificate)"
            } else {
                summary =
                    "server \(url) closed the connection after the tls handshake without answering: "
                    + "it probably requires a client certificate, and none was sent"
            }
        case .tlsHandshake: summary = "tls handshake with \(url) failed"
        case .cancelled: summary = "transfer of \(url) was cancelled"
        case .other: summary = "transfer of \(url) failed"
        }
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        let status = httpStatus.map { ", http \($0)" } ?? ""
        let extra = detail.isEmpty || detail == curlMessage ? "" : ": \(detail)"
        return "\(summary)\(tries) (curl error \(code): \(curlMessage)\(extra)\(status))"
    }
}
