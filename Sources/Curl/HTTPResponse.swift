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
