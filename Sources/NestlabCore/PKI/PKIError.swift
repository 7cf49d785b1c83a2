/// What can go wrong making or reading cluster PKI material.
public enum PKIError: Error, CustomStringConvertible {
    /// A certificate that cannot be parsed, or lacks what it needs.
    case malformedCertificate(String)
    /// A private key that cannot be parsed.
    case malformedKey(String)
    /// The CA key does not belong to the CA certificate.
    case keyMismatch
    /// A bootstrap token that does not match `[a-z0-9]{6}.[a-z0-9]{16}`.
    case invalidBootstrapToken(String)
    /// swift-certificates or Yams failed while doing `operation`.
    case failed(operation: String, underlying: any Error)

    public var description: String {
        switch self {
        case .malformedCertificate(let reason):
            return "malformed certificate: \(reason)"
        case .malformedKey(let reason):
            return "malformed private key: \(reason)"
        case .keyMismatch:
            return "the CA private key does not match the CA certificate's public key"
        case .invalidBootstrapToken:
            // The token itself is a secret; never print it.
            return "invalid bootstrap token: it must match [a-z0-9]{6}.[a-z0-9]{16}"
        case .failed(let operation, let underlying):
            return "failed \(operation): \(underlying)"
        }
    }

    static func wrapping<T>(_ operation: String, _ body: () throws -> T) throws(PKIError) -> T {
        do {
            return try body()
        } catch let error as PKIError {
            throw error
        } catch {
            throw .failed(operation: operation, underlying: error)
        }
    }
}
