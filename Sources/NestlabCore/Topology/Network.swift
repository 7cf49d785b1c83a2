public struct Network: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        /// A libvirt NAT network with its own bridge and DHCP.
        case nat
        /// A libvirt network without a route out.
        case isolated
        /// An existing host bridge (for labs spanning hosts); no libvirt network is created.
        case bridge
    }

    public var name: String
    public var mode: Mode
    public var cidr: IPv4Network
    /// LabHost bridge for `bridge` mode.
    public var bridge: String?
    public var gateway: IPv4?
    public var dns: [IPv4]

    /// The host's own address on a libvirt network (its bridge), which no machine may take.
    public var hostAddress: IPv4? { mode == .bridge ? nil : cidr.firstHost }

    /// The gateway guests use: given, or for NAT the network's first address (libvirt's
    /// bridge). Isolated networks route nowhere, so they give no default route.
    public var effectiveGateway: IPv4? {
        if let gateway { return gateway }
        return mode == .nat ? cidr.firstHost : nil
    }
}
