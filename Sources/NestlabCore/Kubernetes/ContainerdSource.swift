/// How containerd gets onto the node.
public enum ContainerdSource: Sendable, Hashable {
    /// The distribution package (`apt-get install containerd runc`), whose line the lead
    /// knows from the image: 1.6 on Debian 12, 1.7 on Ubuntu.
    case distro(ContainerdVersion)
    /// A pinned upstream 2.x release: `containerd-2.X.Y-linux-amd64.tar.gz` (extracted to
    /// /usr/local) plus `runc.amd64` (to /usr/local/sbin/runc).
    case release(version: ContainerdVersion, tarball: Artifact, runc: Artifact)

    public var version: ContainerdVersion {
        switch self {
        case .distro(let v): return v
        case .release(let v, _, _): return v
        }
    }
}
