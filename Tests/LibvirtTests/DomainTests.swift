import Foundation
import Testing

@testable import Libvirt

@Suite("Domains on the test driver")
struct DomainTests {
    @Test func defineStartDestroyUndefine() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: pinnedDomainXML(name: "nl-cp"))
        #expect(domain.name == "nl-cp")
        #expect(domain.uuid.count == 36)
        #expect(domain.id == nil)
        #expect(try !domain.isActive())
        #expect(try domain.isPersistent())
        #expect(try domain.state().state == .shutOff)
        #expect(try connection.listAllDomains(.inactive).map(\.name) == ["nl-cp"])
        #expect(try connection.listAllDomains(.active).isEmpty)

        try domain.create()
        #expect(try domain.isActive())
        #expect(domain.id != nil)
        #expect(try domain.state().state == .running)
        #expect(try connection.listAllDomains(.active).map(\.name) == ["nl-cp"])
        #expect(try connection.listAllDomains(.inactive).isEmpty)
        #expect(try connection.listAllDomains([.active, .persistent]).map(\.name) == ["nl-cp"])
        let info = try domain.info()
        #expect(info.state == .running)
        #expect(info.vcpus == 2)
        #expect(info.maxMemoryKiB == 512 * 1024)

        // A fresh lookup, by name and by UUID, finds the same running domain.
        let byName = try connection.domain(named: "nl-cp")
        #expect(byName.uuid == domain.uuid)
        #expect(try connection.domain(uuid: domain.uuid).name == "nl-cp")
        #expect(try byName.isActive())

        try domain.destroy()
        #expect(try domain.state().state == .shutOff)
        #expect(try connection.listAllDomains(.active).isEmpty)

        try domain.undefine()
        #expect(try connection.listAllDomains().isEmpty)
        #expect(try connection.domainIfExists(named: "nl-cp") == nil)
        let error = try #require(throws: LibvirtError.self) {
            _ = try connection.domain(named: "nl-cp")
        }
        #expect(error.code == .noDomain)
    }

    @Test func startingARunningDomainIsRejected() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "twice"))
        try domain.create()
        let error = try #require(throws: LibvirtError.self) { try domain.create() }
        // The test driver reports this as an internal error (QEMU: operationInvalid), so
        // callers should ask isActive() rather than branch on this code.
        #expect(error.code == .internalError)
        #expect(error.message == "internal error: Domain 'twice' is already running")
    }

    @Test func shutdownStopsATestDomain() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "sd"))
        try domain.create()
        try domain.shutdown()
        #expect(try domain.state().state == .shutOff)
    }

    @Test func undefineOfARunningDomainLeavesItTransient() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "transient-later"))
        try domain.create()
        try domain.undefine(flags: [.managedSave, .snapshotsMetadata])
        #expect(try domain.isActive())
        #expect(try !domain.isPersistent())
        try domain.destroy()
        #expect(try connection.domainIfExists(named: "transient-later") == nil)
    }

    @Test func testDriverRejectsTheNVRAMUndefineFlag() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "nv"))
        let error = try #require(throws: LibvirtError.self) {
            try domain.undefine(flags: .nvram)
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("0x4"))
        // Nothing was undefined.
        #expect(try connection.domainIfExists(named: "nv") != nil)
    }

    @Test func transientDomainVanishesOnDestroy() throws {
        let connection = try TestHost.connect()
        let domain = try connection.createDomain(xml: plainDomainXML(name: "ephemeral"))
        #expect(try domain.isActive())
        #expect(try !domain.isPersistent())
        #expect(try connection.listAllDomains(.transient).map(\.name) == ["ephemeral"])
        try domain.destroy()
        #expect(try connection.listAllDomains().isEmpty)
    }

    @Test func lookupsOfMissingObjectsNameThem() throws {
        let connection = try TestHost.connect()
        let byName = try #require(throws: LibvirtError.self) {
            _ = try connection.domain(named: "no-such-vm")
        }
        #expect(byName.code == .noDomain)
        #expect(byName.domain == 12)  // VIR_FROM_TEST

        let byUUID = try #require(throws: LibvirtError.self) {
            _ = try connection.domain(uuid: "6f1b2c3d-0000-4000-8000-000000000001")
        }
        #expect(byUUID.code == .noDomain)

        let badUUID = try #require(throws: LibvirtError.self) {
            _ = try connection.domain(uuid: "not-a-uuid")
        }
        #expect(badUUID.code == .invalidArgument)
    }

    @Test func brokenXMLIsAnXMLDetailError() throws {
        let connection = try TestHost.connect()
        let error = try #require(throws: LibvirtError.self) {
            _ = try connection.defineDomain(xml: "<domain type='test'><name>x</name")
        }
        // libxml2 parse failures come back as VIR_ERR_XML_DETAIL (35), not XML_ERROR (27).
        #expect(error.code == .xmlDetail)
        #expect(try connection.listAllDomains().isEmpty)
    }

    @Test func redefiningByNameNeedsTheExistingUUID() throws {
        let connection = try TestHost.connect()
        let first = try connection.defineDomain(xml: plainDomainXML(name: "redef", vcpus: 1))
        // Without <uuid>, libvirt generates a new one, which clashes with the existing domain.
        let clash = try #require(throws: LibvirtError.self) {
            _ = try connection.defineDomain(xml: plainDomainXML(name: "redef", vcpus: 2))
        }
        #expect(clash.code == .operationFailed)
        #expect(clash.message.contains("already exists with uuid \(first.uuid)"))

        let withUUID = plainDomainXML(name: "redef", vcpus: 2)
            .replacingOccurrences(of: "<name>redef</name>", with: "<name>redef</name><uuid>\(first.uuid)</uuid>")
        let second = try connection.defineDomain(xml: withUUID)
        #expect(second.uuid == first.uuid)
        #expect(try first.info().vcpus == 2)
        #expect(try connection.listAllDomains().count == 1)
    }

    @Test func xmlDescReturnsTheDefinitionWithPinning() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: pinnedDomainXML(name: "xml"))
        let xml = try domain.xmlDesc(flags: .inactive)
        #expect(xml.hasPrefix("<domain type='test'>"))
        #expect(xml.contains("<name>xml</name>"))
        #expect(xml.contains("<vcpupin vcpu='0' cpuset='2'/>"))
        #expect(xml.contains("<vcpupin vcpu='1' cpuset='3'/>"))
        #expect(xml.contains("<emulatorpin cpuset='0-1'/>"))
        #expect(xml.contains("<iothreadpin iothread='1' cpuset='0-1'/>"))
    }

    @Test(arguments: [Domain.Modification.config, .current])
    func pinInfoMatchesVcputuneBeforeStart(flags: Domain.Modification) throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: pinnedDomainXML(name: "pin"))
        #expect(try domain.vcpuPinInfo(flags: flags) == [0: [2], 1: [3]])
        #expect(try domain.emulatorPinInfo(flags: flags) == [0, 1])
        #expect(try domain.ioThreadInfo(flags: flags) == [IOThreadInfo(id: 1, cpus: [0, 1])])
    }

    @Test func pinInfoIsAppliedToTheRunningDomain() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: pinnedDomainXML(name: "pin-live"))
        try domain.create()
        #expect(try domain.vcpuPinInfo(flags: .live) == [0: [2], 1: [3]])
        #expect(try domain.emulatorPinInfo(flags: .live) == [0, 1])
        #expect(try domain.ioThreadInfo(flags: .live) == [IOThreadInfo(id: 1, cpus: [0, 1])])
    }

    @Test func unpinnedVcpusMayRunOnEveryHostCPU() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "free", vcpus: 3))
        let all = Array(0..<TestHost.cpuCount)
        #expect(try domain.vcpuPinInfo() == [0: all, 1: all, 2: all])
        #expect(try domain.emulatorPinInfo() == all)
        #expect(try domain.ioThreadInfo().isEmpty)
    }

    @Test func metadataDefinedInXMLReadsBack() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(
            xml: pinnedDomainXML(
                name: "meta", metadata: "<nl:lab xmlns:nl='\(labNamespace)' name='paper'/>"))
        #expect(try domain.metadata(uri: labNamespace) == "<lab name=\"paper\"/>")
    }

    @Test func metadataSetGetRemoveRoundTrip() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "meta-rt"))

        let missing = try #require(throws: LibvirtError.self) {
            _ = try domain.metadata(uri: labNamespace)
        }
        #expect(missing.code == .noDomainMetadata)
        #expect(missing.code.rawValue == 80)
        #expect(try domain.metadataIfPresent(uri: labNamespace) == nil)

        try domain.setMetadata(
            "<lab name='nested-tuned' machine='cp'><owner>nestlab</owner></lab>", key: "nl",
            uri: labNamespace, flags: .config)
        #expect(
            try domain.metadata(uri: labNamespace, flags: .config)
                == "<lab name=\"nested-tuned\" machine=\"cp\">\n  <owner>nestlab</owner>\n</lab>")
        let xml = try domain.xmlDesc(flags: .inactive)
        #expect(xml.contains("<nl:lab xmlns:nl=\"\(labNamespace)\" name=\"nested-tuned\" machine=\"cp\">"))

        // Another namespace is still missing.
        let other = try #require(throws: LibvirtError.self) {
            _ = try domain.metadata(uri: "https://example.invalid/other")
        }
        #expect(other.code == .noDomainMetadata)

        try domain.setMetadata(nil, key: "nl", uri: labNamespace, flags: .config)
        #expect(try domain.metadataIfPresent(uri: labNamespace) == nil)
    }

    @Test func metadataOnARunningDomainFollowsTheFlags() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "meta-live"))
        try domain.create()
        try domain.setMetadata("<lab name='live-only'/>", key: "nl", uri: labNamespace)
        #expect(try domain.metadata(uri: labNamespace, flags: .live) == "<lab name=\"live-only\"/>")
        // `.current` on a running domain touched only the live definition.
        #expect(try domain.metadataIfPresent(uri: labNamespace, flags: .config) == nil)

        try domain.setMetadata(
            "<lab name='both'/>", key: "nl", uri: labNamespace, flags: [.live, .config])
        #expect(try domain.metadata(uri: labNamespace, flags: .config) == "<lab name=\"both\"/>")
        #expect(try domain.metadata(uri: labNamespace, flags: .live) == "<lab name=\"both\"/>")
    }

    @Test func interfaceAddressesComeFromTheTestDriver() throws {
        // The test driver invents addresses: the DHCP range start + 1 of the interface's
        // network (which must exist), and 192.168.0.<index + 1> for other interface types.
        let connection = try TestHost.connect(
            children: NetworkTests.networkXML(name: "default", bridge: "virbr9"))
        let xml = pinnedDomainXML(name: "addr").replacingOccurrences(
            of: "</devices>",
            with:
                "<interface type='bridge'><mac address='52:54:00:00:00:12'/><source bridge='br0'/></interface></devices>"
        )
        let domain = try connection.defineDomain(xml: xml)
        try domain.create()
        for source in [Domain.AddressSource.lease, .agent, .arp] {
            #expect(
                try domain.interfaceAddresses(source: source) == [
                    DomainInterface(
                        name: "testnet0", hardwareAddress: "52:54:00:00:00:11",
                        addresses: [.init(family: .ipv4, address: "10.77.0.101", prefix: 24)]),
                    DomainInterface(
                        name: "testnet1", hardwareAddress: "52:54:00:00:00:12",
                        addresses: [.init(family: .ipv4, address: "192.168.0.2", prefix: 24)]),
                ])
        }
    }

    @Test func interfaceAddressesNeedTheNetworkToExist() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: pinnedDomainXML(name: "addr"))
        try domain.create()
        let error = try #require(throws: LibvirtError.self) {
            _ = try domain.interfaceAddresses(source: .lease)
        }
        #expect(error.code == .noNetwork)
    }

    @Test func consoleIsNotSupportedByTheTestDriver() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "con"))
        try domain.create()
        let error = try #require(throws: LibvirtError.self) {
            _ = try domain.openConsole()
        }
        #expect(error.code == .noSupport)
    }

    @Test func autostartToggles() throws {
        let connection = try TestHost.connect()
        let domain = try connection.defineDomain(xml: plainDomainXML(name: "auto"))
        #expect(try !domain.autostart())
        try domain.setAutostart(true)
        #expect(try domain.autostart())
        #expect(try connection.listAllDomains(.autostart).map(\.name) == ["auto"])
    }
}
