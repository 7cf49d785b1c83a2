import Crypto
import Foundation

/// An Ed25519 SSH key pair for reaching lab machines, in OpenSSH's own file formats.
///
/// The private key file is OpenSSH's unencrypted `openssh-key-v1` format
/// (`-----BEGIN OPENSSH PRIVATE KEY-----`, see OpenSSH's PROTOCOL.key); the public key
/// is an `authorized_keys` line, `ssh-ed25519 AAAA... comment`.
public struct SSHKey: Sendable {
    static let keyType = "ssh-ed25519"
    static let magic = Array("openssh-key-v1".utf8) + [0]
    static let pemBegin = "-----BEGIN OPENSSH PRIVATE KEY-----"
    static let pemEnd = "-----END OPENSSH PRIVATE KEY-----"

    /// The Ed25519 private key.
    public let privateKey: Curve25519.Signing.PrivateKey
    /// The comment stored with the key and appended to the public key line.
    public var comment: String

    /// Generates a new key pair.
    public init(comment: String) {
        self.init(privateKey: Curve25519.Signing.PrivateKey(), comment: comment)
    }

    public init(privateKey: Curve25519.Signing.PrivateKey, comment: String) {
        self.privateKey = privateKey
        self.comment = comment
    }

    /// Loads an unencrypted Ed25519 key from the text of an `openssh-key-v1` private key file.
    public init(openSSHPrivateKey text: String) throws(SSHKeyError) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }
        guard let begin = lines.firstIndex(of: Self.pemBegin),
            let end = lines[begin...].firstIndex(of: Self.pemEnd)
        else { throw .notOpenSSHPrivateKey }
        guard let decoded = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw .malformed("the key body is not valid base64")
        }
        var reader = SSHReader(Array(decoded))
        guard try reader.bytes(count: Self.magic.count) == Self.magic else {
            throw .malformed("missing the openssh-key-v1 magic")
        }
        let cipher = try reader.string()
        let kdf = try reader.string()
        _ = try reader.string()  // kdf options
        guard cipher == Array("none".utf8), kdf == Array("none".utf8) else {
            throw .encrypted(cipher: String(decoding: cipher, as: UTF8.self))
        }
        let count = try reader.uint32()
        guard count == 1 else { throw .malformed("the file holds \(count) keys; expected exactly 1") }
        let publicBlob = try reader.string()
        var secret = SSHReader(try reader.string())
        guard try secret.uint32() == secret.uint32() else {
            throw .malformed("the check integers differ (corrupt file, or a wrong passphrase was used)")
        }
        let type = String(decoding: try secret.string(), as: UTF8.self)
        guard type == Self.keyType else { throw .unsupportedKeyType(type) }
        let publicKey = try secret.string()
        let privateAndPublic = try secret.string()
        let comment = String(decoding: try secret.string(), as: UTF8.self)
        guard publicKey.count == 32, privateAndPublic.count == 64,
            Array(privateAndPublic[32...]) == publicKey
        else { throw .malformed("the Ed25519 key fields have the wrong length or disagree") }
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateAndPublic[0..<32])
        } catch {
            throw .malformed("the Ed25519 seed is not a valid key")
        }
        guard Array(key.publicKey.rawRepresentation) == publicKey else {
            throw .malformed("the public key does not belong to the private key")
        }
        self.init(privateKey: key, comment: comment)
        guard Self.publicKeyBlob(publicKey) == publicBlob else {
            throw .malformed("the outer public key does not match the private section")
        }
    }

    /// The SSH wire encoding of the public key: `string "ssh-ed25519"`, `string key`.
    public var publicKeyBlob: [UInt8] {
        Self.publicKeyBlob(Array(privateKey.publicKey.rawRepresentation))
    }

    /// The `authorized_keys` line, without a trailing newline.
    public var authorizedKey: String {
        let base = Self.keyType + " " + Data(publicKeyBlob).base64EncodedString()
        return comment.isEmpty ? base : base + " " + comment
    }

    /// The private key file's text in the `openssh-key-v1` format, unencrypted.
    ///
    /// - Parameter checkInt: the check integer OpenSSH stores twice; random by default,
    ///   fixed only for reproducible tests.
    public func openSSHPrivateKey(checkInt: UInt32 = UInt32.random(in: .min ... .max)) -> String {
        let publicKey = Array(privateKey.publicKey.rawRepresentation)
        var secret = SSHWriter()
        secret.uint32(checkInt)
        secret.uint32(checkInt)
        secret.string(Array(Self.keyType.utf8))
        secret.string(publicKey)
        secret.string(Array(privateKey.rawRepresentation) + publicKey)
        secret.string(Array(comment.utf8))
        // Pad to the cipher block size, which is 8 for "none".
        var pad: UInt8 = 1
        while secret.bytes.count % 8 != 0 {
            secret.bytes.append(pad)
            pad += 1
        }

        var file = SSHWriter()
        file.bytes = Self.magic
        file.string(Array("none".utf8))  // cipher
        file.string(Array("none".utf8))  // kdf
        file.string([])  // kdf options
        file.uint32(1)
        file.string(publicKeyBlob)
        file.string(secret.bytes)
        // OpenSSH wraps the body at 70 columns.
        return Self.pemBegin + "\n" + wrappedBase64(file.bytes, width: 70) + Self.pemEnd + "\n"
    }

    /// Writes `name` (private, mode 0600) and `name.pub` (mode 0644) into `directory`.
    @discardableResult
    public func write(to directory: URL, name: String = "id_ed25519") throws(SecretFileError)
        -> (privateKey: URL, publicKey: URL)
    {
        let privateURL = directory.appendingPathComponent(name)
        let publicURL = directory.appendingPathComponent(name + ".pub")
        try SecretFile.write(openSSHPrivateKey(), to: privateURL)
        try SecretFile.write(authorizedKey + "\n", to: publicURL, mode: 0o644)
        return (privateURL, publicURL)
    }

    private static func publicKeyBlob(_ key: [UInt8]) -> [UInt8] {
        var blob = SSHWriter()
        blob.string(Array(keyType.utf8))
        blob.string(key)
        return blob.bytes
    }
}
