import Foundation

/// Errors from the Curl module.
///
/// Failures that come from libcurl keep its code, `curl_easy_strerror` text and the
/// CURLOPT_ERRORBUFFER detail (see ``TransferFailure``).
public enum CurlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libcurl could not complete the transfer: connection, DNS, timeout, TLS, and so on.
    case transfer(TransferFailure)
    /// The server answered with an HTTP error status (4xx or 5xx).
    case httpStatus(status: Int, url: String, attempts: Int)
    /// The downloaded bytes do not hash to the expected SHA-256 digest.
    case checksumMismatch(url: String, expected: String, actual: String)
    /// The checksum file has no line for the downloaded file.
    case checksumNotListed(checksumsURL: String, fileName: String)
    /// The checksum file is not in `sha256sum` format.
    case invalidChecksumFile(url: String, reason: String)
    /// A SHA-256 digest given by the caller is not 64 hexadecimal characters.
    case invalidDigest(String)
    /// A URL that the downloader does not accept.
    case invalidURL(String, reason: String)
    /// A local file operation failed; `errno` is the C error number.
    case file(operation: String, path: String, errno: Int32)
    /// libcurl rejected an option (the libcurl build lacks the feature or the value is bad).
    case option(name: String, code: Int, message: String)
    /// libcurl could not be initialised.
    case initialization(code: Int, message: String)
    /// A response body exceeded the client's limit.
    case responseTooLarge(url: String, limit: Int)

    public var description: String {
        switch self {
        case .transfer(let failure):
            return failure.description
        case .httpStatus(let status, let url, let attempts):
            let text = HTTPStatus.reason(status).map { " (\($0))" } ?? ""
            let tries = attempts > 1 ? " after \(attempts) attempts" : ""
            return "http \(status) for \(url)\(text)\(tries)"
        case .checksumMismatch(let url, let expected, let actual):
            return "sha256 mismatch for \(url): expected \(expected), got \(actual)"
        case .checksumNotListed(let checksumsURL, let fileName):
            return "checksum file \(checksumsURL) has no entry for '\(fileName)'"
        case .invalidChecksumFile(let url, let reason):
            return "checksum file \(url) is not in sha256sum format: \(reason)"
        case .invalidDigest(let digest):
            return "'\(digest)' is not a sha256 digest (expected 64 hexadecimal characters)"
        case .invalidURL(let url, let reason):
            return "invalid url '\(url)': \(reason)"
        case .file(let operation, let path, let code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .option(let name, let code, let message):
            return "libcurl rejected \(name): \(message) (curl error \(code))"
        case .initialization(let code, let message):
            return "libcurl initialisation failed: \(message) (curl error \(code))"
        case .responseTooLarge(let url, let limit):
            return "response from \(url) is larger than the \(limit)-byte limit"
        }
    }
}
