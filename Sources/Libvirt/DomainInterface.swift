/// One guest network interface as `Domain.interfaceAddresses` reports it.
public struct DomainInterface: Sendable, Hashable {
    /// The interface name (guest name for the agent, host tap name for leases/ARP).
    public let name: String
    /// The MAC address, when known.
    public let hardwareAddress: String?
    public let addresses: [Address]

    public struct Address: Sendable, Hashable {
        public enum Family: Sendable, Hashable { case ipv4, ipv6 }
        public let family: Family
        public let address: String
        public let prefix: Int
    }
}
