import CCurl
import Foundation

/// A complete HTTP response held in memory.
public struct HTTPResponse: Sendable, Equatable {
    /// The URL asked for.
    public var url: URL
    public var status: Int
    /// The final response's headers, in order (after redirects).
    public var headers: [HTTPHeader]
    public var body: Data

    public init(url: URL, status: Int, headers: [HTTPHeader], body: Data) {
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Returns the response if its status is 2xx, else throws ``CurlError/httpStatus(status:url:attempts:)``.
    @discardableResult
    public func requireSuccess() throws(CurlError) -> HTTPResponse {
        guard (200..<300).contains(status) else {
            throw .httpStatus(status: status, url: url.absoluteString, attempts: 1)
        }
        return self
    }
}

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

/// Collects a body in memory up to a limit.
final class MemorySink: BodySink {
    let limit: Int
    private(set) var body = Data()
    private(set) var overflowed = false
    var baseOffset: Int64 { 0 }

    init(limit: Int) {
        self.limit = limit
    }

    func begin(status: Int, headers: [HTTPHeader]) -> Bool { true }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            overflowed = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }
}

/// A request whose response is read into memory, run on a transfer thread.
enum MemoryRequest {
    enum Method: Sendable {
        case get
        case post(Data)
    }

    struct Response: Sendable {
        var status: Int
        var headers: [HTTPHeader]
        var body: Data
    }

    static func perform(
        url: String, method: Method, settings: RequestSettings, headers: [String] = [],
        limit: Int, flag: CancellationFlag
    ) -> Result<Response, CurlError> {
        do {
            let handle = try EasyHandle()
            try handle.configure(url: url, settings: settings)
            if !headers.isEmpty { try handle.setHeaders(headers) }
            let sink = MemorySink(limit: limit)
            let state = TransferState(handle: handle, sink: sink, flag: flag, onProgress: nil)
            try state.install()
            let code: CURLcode
            switch method {
            case .get:
                code = handle.perform()
            case .post(let body):
                try handle.set(
                    CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count), name: "CURLOPT_POSTFIELDSIZE_LARGE")
                // COPYPOSTFIELDS copies the body, so it need not outlive this call. An empty
                // body still needs a valid pointer, hence the one NUL byte.
                var bytes = [UInt8](body)
                if bytes.isEmpty { bytes = [0] }
                let set: Result<Void, CurlError> = bytes.withUnsafeMutableBytes { raw in
                    Result { () throws(CurlError) in
                        try handle.set(CURLOPT_COPYPOSTFIELDS, pointer: raw.baseAddress, name: "CURLOPT_COPYPOSTFIELDS")
                    }
                }
                try set.get()
                code = handle.perform()
            }
            if sink.overflowed { return .failure(.responseTooLarge(url: url, limit: limit)) }
            let status = handle.responseCode
            guard code == CURLE_OK else {
                return .failure(
                    .transfer(
                        TransferFailure.classify(
                            code: code, detail: handle.errorDetail, url: url, status: status > 0 ? status : nil,
                            tls: settings.tls, handshakeCompleted: handle.tlsHandshakeCompleted)))
            }
            return .success(Response(status: status, headers: state.headers, body: sink.body))
        } catch {
            return .failure(error)
        }
    }
}
