/// One DHCP lease of a libvirt network.
public struct DHCPLease: Sendable, Hashable {
    /// The network's bridge device.
    public let interface: String
    /// Expiry, in seconds since the epoch.
    public let expiryTime: Int64
    public let family: DomainInterface.Address.Family
    public let mac: String?
    public let ipAddress: String
    public let prefix: Int
    public let hostname: String?
    public let clientID: String?
}
