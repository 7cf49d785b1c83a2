/// A host that SSH reaches a machine through (`ProxyJump`): a remote libvirt host, for a VM
/// on one of its NAT networks, which only that host can route to.
public struct JumpHost: Sendable, Hashable, Codable {
    /// The `Host` name in the lab's SSH config: `nestlab-LAB-HOST`.
    public var alias: String
    public var hostName: String
    public var port: Int
    public var user: String?
    public var identityFile: String?

    public init(alias: String, hostName: String, port: Int = 22, user: String? = nil, identityFile: String? = nil) {
        self.alias = alias
        self.hostName = hostName
        self.port = port
        self.user = user
        self.identityFile = identityFile
    }

    /// `[user@]host[:port]`, as `ssh -J` takes it.
    public var target: String {
        (user.map { "\($0)@" } ?? "") + hostName + (port == 22 ? "" : ":\(port)")
    }
}
