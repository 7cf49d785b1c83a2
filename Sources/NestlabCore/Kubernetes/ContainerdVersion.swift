/// A containerd release line, as far as its config format is concerned.
public struct ContainerdVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }
    public var description: String { "\(major).\(minor)" }
    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    /// Debian 12's package (1.6.20).
    public static let debian12 = ContainerdVersion(1, 6)
    /// Ubuntu 22.04/24.04 packages (1.7.x).
    public static let ubuntu = ContainerdVersion(1, 7)

    /// Config `version = 3` for 2.x, `version = 2` for 1.x.
    public var configVersion: Int { major >= 2 ? 3 : 2 }
    /// Per-runtime `snapshotter` exists from 1.7 (containerd PR 6899).
    public var supportsRuntimeSnapshotter: Bool { self >= ContainerdVersion(1, 7) }
    /// CNI `bin_dirs` (a list) replaces `bin_dir` in 2.1; `bin_dir` is gone in 2.2.
    public var usesCNIBinDirs: Bool { self >= ContainerdVersion(2, 1) }
}
