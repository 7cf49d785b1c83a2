import Foundation

/// A failed system call while writing a secret file; keeps the C error number.
public enum SecretFileError: Error, Equatable, CustomStringConvertible {
    /// `operation` on `path` failed with `errno`.
    case system(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .system(let operation, let path, let code):
            return "cannot \(operation) '\(path)': \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
