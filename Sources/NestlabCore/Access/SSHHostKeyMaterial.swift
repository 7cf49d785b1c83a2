/// A guest's SSH host key as nestlab made it: the private key file's text (OpenSSH's
/// `openssh-key-v1`, kept 0600 in the lab's state) and its public line.
public struct SSHHostKeyMaterial: Sendable, Hashable {
    public var privateKey: String
    public var publicKey: String

    public init(privateKey: String, publicKey: String) {
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// `ssh-ed25519 AAAA…`, without the comment: what a known_hosts line carries.
    public var keyWithoutComment: String {
        publicKey.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ")
    }
}
