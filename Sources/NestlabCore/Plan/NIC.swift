/// A NIC of a machine instance.
public struct NIC: Sendable, Hashable {
    public var network: Network
    /// The libvirt network name (`LAB-NET`), or nil for a host bridge.
    public var libvirtNetwork: String?
    public var mac: String
    public var address: IPv4
}
