/// Where the standard CNI plugins (bridge, loopback, portmap, ...) come from.
public enum CNIPluginsSource: Sendable, Hashable {
    /// Debian/Ubuntu `containernetworking-plugins` (installs to /usr/lib/cni; linked into /opt/cni/bin).
    case distro
    /// The upstream release tarball `cni-plugins-linux-amd64-vX.Y.Z.tgz`, extracted to /opt/cni/bin.
    case release(Artifact)
}
