import Foundation

/// What a download is verified against.
public enum Checksum: Sendable, Hashable {
    /// A pinned SHA-256 digest (64 hex characters, any case).
    case sha256(String)
    /// A checksum file in `sha256sum` format: a `SHA256SUMS` list, or a single-file
    /// `.sha256` holding just the digest (as dl.k8s.io publishes). The entry is found by
    /// the downloaded URL's file name.
    case checksumFile(URL)
    /// Nothing to check against: the digest is computed and returned so that the caller
    /// can pin it (trust on first use).
    case none
}
