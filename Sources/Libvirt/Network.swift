import CLibvirt

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A libvirt virtual network, freed with `virNetworkFree` when released.
///
/// `@unchecked Sendable`: immutable handle plus connection; libvirt handles are thread-safe.
public final class Network: @unchecked Sendable {
    /// The connection this network came from; kept alive as long as the network.
    public let connection: Connection
    let handle: OpaquePointer

    init(connection: Connection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        virNetworkFree(handle)
    }

    /// The network's name (held in the handle; no round trip).
    public var name: String {
        borrowString(virNetworkGetName(handle)) ?? ""
    }

    /// The network's UUID string (held in the handle).
    public var uuid: String {
        uuidString { virNetworkGetUUIDString(handle, $0) }
    }

    /// Starts a defined network (`virNetworkCreate`).
    public func create() throws(LibvirtError) {
        try check(virNetworkCreate(handle))
    }

    /// Stops the network (`virNetworkDestroy`); a transient one disappears.
    public func destroy() throws(LibvirtError) {
        try check(virNetworkDestroy(handle))
    }

    /// Removes the persistent definition (`virNetworkUndefine`).
    public func undefine() throws(LibvirtError) {
        try check(virNetworkUndefine(handle))
    }

    /// Whether the network is running.
    public func isActive() throws(LibvirtError) -> Bool {
        try check(virNetworkIsActive(handle)) == 1
    }

    /// Whether the network has a persistent definition.
    public func isPersistent() throws(LibvirtError) -> Bool {
        try check(virNetworkIsPersistent(handle)) == 1
    }

    /// The network XML; `inactive` gives the persistent definition.
    public func xmlDesc(inactive: Bool = false) throws(LibvirtError) -> String {
        try takeString(
            virNetworkGetXMLDesc(handle, inactive ? VIR_NETWORK_XML_INACTIVE.rawValue : 0))
    }

    /// The host bridge device of the network, e.g. `virbr0`.
    public func bridgeName() throws(LibvirtError) -> String {
        try takeString(virNetworkGetBridgeName(handle))
    }

    /// Sets whether the network starts with the host.
    public func setAutostart(_ autostart: Bool) throws(LibvirtError) {
        try check(virNetworkSetAutostart(handle, autostart ? 1 : 0))
    }

    /// Whether the network starts with the host.
    public func autostart() throws(LibvirtError) -> Bool {
        var value: Int32 = 0
        try check(virNetworkGetAutostart(handle, &value))
        return value != 0
    }

    /// The network's current DHCP leases, optionally only those of one MAC address
    /// (`virNetworkGetDHCPLeases`).
    public func dhcpLeases(mac: String? = nil) throws(LibvirtError) -> [DHCPLease] {
        var array: UnsafeMutablePointer<virNetworkDHCPLeasePtr?>?
        let count = try check(virNetworkGetDHCPLeases(handle, mac, &array, 0))
        guard let array else { return [] }
        defer {
            for index in 0..<Int(count) { virNetworkDHCPLeaseFree(array[index]) }
            free(array)
        }
        var result: [DHCPLease] = []
        for index in 0..<Int(count) {
            guard let lease = array[index]?.pointee else { continue }
            result.append(
                DHCPLease(
                    interface: lease.iface.map { String(cString: $0) } ?? "",
                    expiryTime: lease.expirytime,
                    family: lease.type == Int32(VIR_IP_ADDR_TYPE_IPV6.rawValue) ? .ipv6 : .ipv4,
                    mac: lease.mac.map { String(cString: $0) },
                    ipAddress: lease.ipaddr.map { String(cString: $0) } ?? "",
                    prefix: Int(lease.prefix),
                    hostname: lease.hostname.map { String(cString: $0) },
                    clientID: lease.clientid.map { String(cString: $0) }))
        }
        return result
    }
}
