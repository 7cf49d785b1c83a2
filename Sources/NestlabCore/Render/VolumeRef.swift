/// A volume nestlab placed on a host, referenced by a domain.
public struct VolumeRef: Sendable, Hashable {
    public var pool: String
    public var name: String
    /// Absolute path on the libvirt host.
    public var path: String
    /// Content identity (sha256), recorded in the machine's spec.
    public var identity: String

    public init(pool: String, name: String, path: String, identity: String) {
        self.pool = pool
        self.name = name
        self.path = path
        self.identity = identity
    }
}
