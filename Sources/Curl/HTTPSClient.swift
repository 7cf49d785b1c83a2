import CCurl
import Foundation

/// HTTPS requests with a client certificate, for talking to a Kubernetes API server.
///
/// Each request is one attempt with its own connection: callers that poll (such as a
/// readiness wait on `/readyz`) own the loop. The server certificate is always verified,
/// against `caFile` when given. Any HTTP status is returned, not thrown; use
/// ``HTTPResponse/requireSuccess()`` where only 2xx is acceptable.
public struct HTTPSClient: Sendable {
    /// Connection settings.
    public struct Configuration: Sendable, Hashable {
        /// PEM CA bundle the server certificate must chain to (nil: the system store).
        public var caFile: String?
        /// PEM client certificate file (the admin cert nestlab signs).
        public var clientCertificate: String?
        /// PEM private key file for the client certificate.
        public var clientKey: String?
        public var connectTimeout: Duration = .seconds(10)
        /// Limit for the whole request.
        public var timeout: Duration = .seconds(30)
        /// Proxy choice. Lab addresses are usually not reachable through a proxy, so
        /// pass `.none` for them unless `no_proxy` covers them.
        public var proxy: ProxyPolicy = .environment
        /// Largest body accepted.
        public var maxResponseBytes: Int = 64 * 1024 * 1024
        public var userAgent: String = "nestlab"

        public init(
            caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
            connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(30),
            proxy: ProxyPolicy = .environment
        ) {
            self.caFile = caFile
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.proxy = proxy
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// GETs `url`.
    /// - Throws: ``CurlError/transfer(_:)`` for connection, timeout and TLS failures
    ///   (see ``TransferFailure/Reason``), ``CurlError/responseTooLarge(url:limit:)``.
    public func get(_ url: URL, headers: [String: String] = [:]) async throws -> HTTPResponse {
        try await send(url, method: .get, headers: headers)
    }

    /// POSTs `body` to `url` with the given content type.
    public func post(
        _ url: URL, body: Data, contentType: String = "application/json",
        headers: [String: String] = [:]
    ) async throws -> HTTPResponse {
        var all = headers
        all["Content-Type"] = contentType
        return try await send(url, method: .post(body), headers: all)
    }

    private func send(_ url: URL, method: MemoryRequest.Method, headers: [String: String]) async throws -> HTTPResponse
    {
        try Downloader.validate(url)
        let settings = RequestSettings(
            connectTimeout: configuration.connectTimeout, timeout: configuration.timeout,
            lowSpeedLimit: nil, lowSpeedTime: nil, proxy: configuration.proxy,
            tls: TLSSettings(
                caFile: configuration.caFile, clientCertificate: configuration.clientCertificate,
                clientKey: configuration.clientKey),
            userAgent: configuration.userAgent, bufferSize: nil, acceptEncoding: true)
        let lines = headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        let limit = configuration.maxResponseBytes
        let outcome = await TransferThread.run { flag in
            MemoryRequest.perform(
                url: url.absoluteString, method: method, settings: settings, headers: lines,
                limit: limit, flag: flag)
        }
        switch outcome {
        case .success(let response):
            return HTTPResponse(url: url, status: response.status, headers: response.headers, body: response.body)
        case .failure(.transfer(let failure)) where failure.reason == .cancelled:
            throw CancellationError()
        case .failure(let error):
            throw error
        }
    }
}
