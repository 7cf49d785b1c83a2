import Foundation
import Testing

@testable import Libvirt

@Suite("Networks on the test driver")
struct NetworkTests {
    static func networkXML(name: String, bridge: String) -> String {
        """
        <network>
          <name>\(name)</name>
          <bridge name='\(bridge)'/>
          <forward mode='nat'/>
          <ip address='10.77.0.1' netmask='255.255.255.0'>
            <dhcp><range start='10.77.0.100' end='10.77.0.200'/></dhcp>
          </ip>
        </network>
        """
    }

    @Test func defineCreateDestroyUndefine() throws {
        let connection = try TestHost.connect()
        let network = try connection.defineNetwork(
            xml: Self.networkXML(name: "nl-lab", bridge: "nlbr0"))
        #expect(network.name == "nl-lab")
        #expect(network.uuid.count == 36)
        #expect(try !network.isActive())
        #expect(try network.isPersistent())
        #expect(try connection.listAllNetworks(.inactive).map(\.name) == ["nl-lab"])
        #expect(try connection.listAllNetworks(.active).isEmpty)

        try network.create()
        #expect(try network.isActive())
        #expect(try connection.listAllNetworks(.active).map(\.name) == ["nl-lab"])
        #expect(try connection.network(named: "nl-lab").isActive())
        #expect(try connection.network(uuid: network.uuid).name == "nl-lab")
        #expect(try network.bridgeName() == "nlbr0")
        let xml = try network.xmlDesc()
        #expect(xml.contains("<bridge name='nlbr0'"))
        #expect(xml.contains("<ip address='10.77.0.1' netmask='255.255.255.0'>"))

        try network.destroy()
        #expect(try !network.isActive())
        #expect(try connection.listAllNetworks(.active).isEmpty)

        try network.undefine()
        #expect(try connection.listAllNetworks().isEmpty)
        #expect(try connection.networkIfExists(named: "nl-lab") == nil)
    }

    @Test func missingNetworkIsNoNetwork() throws {
        let connection = try TestHost.connect()
        let error = try #require(throws: LibvirtError.self) {
            _ = try connection.network(named: "nl-missing")
        }
        #expect(error.code == .noNetwork)
        #expect(error.message.contains("'nl-missing'"))
    }

    @Test func networksFromTheNodeFileAreVisible() throws {
        let connection = try TestHost.connect(
            children: Self.networkXML(name: "seeded", bridge: "seedbr0"))
        let network = try connection.network(named: "seeded")
        #expect(try network.isActive())
        #expect(try network.bridgeName() == "seedbr0")
    }

    @Test func transientNetworkVanishesOnDestroy() throws {
        let connection = try TestHost.connect()
        let network = try connection.createNetwork(
            xml: Self.networkXML(name: "nl-tmp", bridge: "nltmp0"))
        #expect(try network.isActive())
        #expect(try !network.isPersistent())
        try network.destroy()
        #expect(try connection.networkIfExists(named: "nl-tmp") == nil)
    }

    @Test func redefiningANetworkNeedsItsUUID() throws {
        let connection = try TestHost.connect()
        let first = try connection.defineNetwork(xml: Self.networkXML(name: "nl-lab", bridge: "a0"))
        // Without <uuid> the new definition gets a fresh UUID and clashes by name.
        let clash = try #require(throws: LibvirtError.self) {
            _ = try connection.defineNetwork(xml: Self.networkXML(name: "nl-lab", bridge: "b0"))
        }
        #expect(clash.code == .operationFailed)
        #expect(clash.message == "operation failed: network 'nl-lab' already exists with uuid \(first.uuid)")

        let withUUID = Self.networkXML(name: "nl-lab", bridge: "b0").replacingOccurrences(
            of: "<name>nl-lab</name>", with: "<name>nl-lab</name><uuid>\(first.uuid)</uuid>")
        let second = try connection.defineNetwork(xml: withUUID)
        #expect(second.uuid == first.uuid)
        #expect(try connection.listAllNetworks().count == 1)
        // The test driver rejects VIR_NETWORK_XML_INACTIVE; the network is inactive anyway.
        #expect(try first.xmlDesc().contains("<bridge name='b0'"))
    }

    @Test func dhcpLeasesAreNotSupportedByTheTestDriver() throws {
        let connection = try TestHost.connect()
        let network = try connection.defineNetwork(xml: Self.networkXML(name: "l", bridge: "l0"))
        try network.create()
        let error = try #require(throws: LibvirtError.self) { _ = try network.dhcpLeases() }
        #expect(error.code == .noSupport)
    }

    @Test func autostartToggles() throws {
        let connection = try TestHost.connect()
        let network = try connection.defineNetwork(xml: Self.networkXML(name: "a", bridge: "a0"))
        #expect(try !network.autostart())
        try network.setAutostart(true)
        #expect(try network.autostart())
    }
}
