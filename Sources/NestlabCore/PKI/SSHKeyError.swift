/// What can be wrong with an OpenSSH private key file.
public enum SSHKeyError: Error, Equatable, CustomStringConvertible {
    /// The text has no `OPENSSH PRIVATE KEY` block.
    case notOpenSSHPrivateKey
    /// The key is protected by a passphrase.
    case encrypted(cipher: String)
    /// The key is not Ed25519.
    case unsupportedKeyType(String)
    /// The structure is broken.
    case malformed(String)

    public var description: String {
        switch self {
        case .notOpenSSHPrivateKey:
            return "not an OpenSSH private key: expected a '-----BEGIN OPENSSH PRIVATE KEY-----' block"
        case .encrypted(let cipher):
            return "the SSH key is encrypted (cipher '\(cipher)'); nestlab needs an unencrypted key"
        case .unsupportedKeyType(let type):
            return "unsupported SSH key type '\(type)'; nestlab uses ssh-ed25519 keys"
        case .malformed(let reason):
            return "malformed OpenSSH private key: \(reason)"
        }
    }
}
