/// A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}` (id, then secret).
///
/// nestlab picks it before any VM exists, puts it in `InitConfiguration.bootstrapTokens`
/// on the control plane and in `JoinConfiguration.discovery.bootstrapToken.token` on
/// workers. `description` deliberately redacts the secret; use ``value`` to render it.
public struct BootstrapToken: Sendable, Hashable, CustomStringConvertible {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// The public part, also the name of the `bootstrap-token-<id>` Secret.
    public let id: String
    /// The secret part.
    public let secret: String

    /// Makes a new token from the system's cryptographically secure generator.
    public static func generate() -> BootstrapToken {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    /// Makes a token from `generator`; each character is drawn uniformly from [a-z0-9].
    public static func generate(using generator: inout some RandomNumberGenerator) -> BootstrapToken {
        func draw(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
        return BootstrapToken(uncheckedID: draw(6), secret: draw(16))
    }

    /// Parses `id.secret`, accepting only `[a-z0-9]{6}.[a-z0-9]{16}`.
    public init(_ value: String) throws(PKIError) {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            parts.count == 2 && parts[0].count == 6 && parts[1].count == 16
            && parts.allSatisfy { $0.allSatisfy { Self.alphabet.contains($0) } }
        guard valid else { throw .invalidBootstrapToken(value) }
        self.init(uncheckedID: String(parts[0]), secret: String(parts[1]))
    }

    private init(uncheckedID id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// The token as kubeadm takes it: `id.secret`.
    public var value: String { id + "." + secret }

    public var description: String { id + ".<redacted>" }
}
