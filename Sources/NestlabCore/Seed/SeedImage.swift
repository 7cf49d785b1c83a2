import Crypto
import Foundation

/// A built seed image and the content hash it is named by.
public struct SeedImage: Sendable, Hashable {
    /// The ISO 9660 image.
    public let bytes: Data
    /// The SHA-256 of `bytes`, in lower-case hex.
    public let sha256: String

    public init(bytes: Data) {
        self.bytes = bytes
        self.sha256 = hexString(SHA256.hash(data: bytes))
    }

    /// A file or volume name for this image that changes whenever its content does,
    /// for example `lab-cp-seed-0123456789abcdef.iso`.
    public func fileName(prefix: String) -> String {
        "\(prefix)-seed-\(sha256.prefix(16)).iso"
    }
}
