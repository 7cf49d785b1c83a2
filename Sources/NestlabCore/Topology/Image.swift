import Foundation

/// A base disk image.
public struct Image: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A local file, resolved against the topology's directory.
        case file(path: String)
        /// A download, verified by a pinned digest or a checksum file.
        case url(String, sha256: String?, checksums: String?)
    }

    public enum Format: String, Sendable, Hashable, CaseIterable, Codable { case qcow2, raw }

    public var name: String
    public var source: Source
    public var format: Format
    /// The guest's distribution: decides how node scripts install packages and which
    /// containerd the distribution ships (1.6 on Debian 12, 1.7 on Ubuntu).
    public var os: NodeOS = .debian12
    /// Direct kernel boot (images without a boot loader, like nestlab's test image).
    public var kernel: String?
    public var initrd: String?
    public var cmdline: String?
}
