/// A libvirt or hypervisor version, decoded from libvirt's `major * 1_000_000 + minor * 1000
/// + release` form.
public struct LibvirtVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let release: Int

    public init(major: Int, minor: Int, release: Int) {
        self.major = major
        self.minor = minor
        self.release = release
    }

    init(encoded: UInt64) {
        self.init(
            major: Int(encoded / 1_000_000), minor: Int(encoded / 1000 % 1000),
            release: Int(encoded % 1000))
    }

    public var description: String { "\(major).\(minor).\(release)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor, a.release) < (b.major, b.minor, b.release)
    }
}
