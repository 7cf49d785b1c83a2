import Curl
import Foundation

/// Errors from the artifact cache.
public enum ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The downloaded bytes do not match the digest pinned for the artifact.
    case digestMismatch(name: String, url: String, expected: String, actual: String)
    /// The download failed; the Curl error says why.
    case download(name: String, CurlError)
    /// The request cannot be fetched as given.
    case invalidRequest(name: String, reason: String)
    /// A cached blob no longer hashes to its name (disk corruption or tampering); it was removed.
    case corruptBlob(sha256: String, actual: String)
    /// A file operation in the cache failed; `errno` is the C error number.
    case file(operation: String, path: String, errno: Int32)
    /// The index file cannot be read.
    case unreadableIndex(path: String, reason: String)

    public var description: String {
        switch self {
        case .digestMismatch(let name, let url, let expected, let actual):
            return "artifact '\(name)' from \(url) does not match its pinned digest: expected sha256 \(expected), "
                + "downloaded bytes have sha256 \(actual); nothing was cached (update the pin only if the new file is trusted)"
        case .download(let name, let error):
            return "cannot fetch artifact '\(name)': \(error)"
        case .invalidRequest(let name, let reason):
            return "artifact '\(name)': \(reason)"
        case .corruptBlob(let sha256, let actual):
            return "cached blob \(sha256) now hashes to \(actual); it was removed and will be downloaded again"
        case .file(let operation, let path, let code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .unreadableIndex(let path, let reason):
            return "cannot read the artifact index \(path): \(reason) (remove it to rebuild the cache)"
        }
    }
}
