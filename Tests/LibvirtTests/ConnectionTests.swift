import Foundation
import FoundationXML
import Testing

@testable import Libvirt

@Suite("Connection on the test driver")
struct ConnectionTests {
    @Test func reportsCanonicalURIAndDriver() throws {
        let (connection, uri) = try TestHost.open()
        #expect(connection.uri == uri)
        #expect(try connection.hypervisorType() == "TEST")
        #expect(connection.isAlive())
        #expect(!connection.isRemote)
    }

    @Test func nodeInfoMatchesTheNodeFile() throws {
        let connection = try TestHost.connect()
        let info = try connection.nodeInfo()
        #expect(
            info
                == NodeInfo(
                    model: "i686", memoryKiB: TestHost.memoryKiB, cpus: 8, mhz: 2400,
                    numaNodes: 1, sockets: 1, cores: 4, threads: 2))
        #expect(try connection.hostCPUCount() == TestHost.cpuCount)
    }

    @Test func versionsComeFromTheLoadedLibrary() throws {
        let connection = try TestHost.connect()
        let library = try Connection.localLibraryVersion()
        // The test driver runs in-process, so the serving libvirt is this library.
        #expect(try connection.libVersion() == library)
        #expect(library >= LibvirtVersion(major: 9, minor: 0, release: 0))
        // The test driver reports a fixed hypervisor version, 0.0.2.
        #expect(try connection.hypervisorVersion() == LibvirtVersion(major: 0, minor: 0, release: 2))
    }

    @Test func hostnameIsThisMachine() throws {
        let connection = try TestHost.connect()
        var buffer = [CChar](repeating: 0, count: 256)
        #expect(gethostname(&buffer, buffer.count) == 0)
        let expected = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(try connection.hostname() == expected)
    }

    @Test func capabilitiesParseAndDescribeTheFakeHost() throws {
        let connection = try TestHost.connect()
        let xml = try connection.capabilities()
        let document = try XMLDocument(xmlString: xml)
        let arch = try document.nodes(forXPath: "/capabilities/host/cpu/arch").map(\.stringValue)
        #expect(arch == ["i686"])
        let pageSizes = try document.nodes(forXPath: "/capabilities/host/cpu/pages/@size")
            .compactMap { $0.stringValue.flatMap { UInt32($0) } }
        #expect(pageSizes == [4, 8, 2048, 1_048_576])
        let domainTypes = try document.nodes(forXPath: "/capabilities/guest/arch/domain/@type")
            .compactMap(\.stringValue)
        #expect(Set(domainTypes) == ["test"])
    }

    @Test func freePagesAreReportedPerRequestedSize() throws {
        let connection = try TestHost.connect()
        // The test driver fills counts with the sequence x = 2x + 7 from x = 6.
        let pages = try connection.freePages(sizesKiB: [4, 2048, 1_048_576], cell: 0)
        #expect(pages == [4: 19, 2048: 45, 1_048_576: 97])
        #expect(try connection.freePages(sizesKiB: []) == [:])
    }

    @Test func eachOpenOfANodeFileIsAFreshHost() throws {
        let (first, uri) = try TestHost.open(
            children: "<domain type='test'><name>seeded</name><memory>65536</memory><os><type>hvm</type></os></domain>")
        _ = try first.defineDomain(xml: plainDomainXML(name: "only-in-first"))
        #expect(try first.listAllDomains().map(\.name).sorted() == ["only-in-first", "seeded"])

        let (second, _) = try TestHost.open(
            children: "<domain type='test'><name>seeded</name><memory>65536</memory><os><type>hvm</type></os></domain>")
        #expect(second.uri != uri)
        #expect(try second.listAllDomains().map(\.name) == ["seeded"])
    }

    @Test func openingAMissingNodeFileFailsWithLibvirtsCode() throws {
        let error = try #require(throws: LibvirtError.self) {
            _ = try Connection(uri: "test:///nonexistent/nestlab/node.xml")
        }
        #expect(error.code == .noConnect || error.code == .systemError || error.code == .xmlError)
        #expect(error.message.contains("/nonexistent/nestlab/node.xml"))
    }

    @Test(arguments: [
        ("qemu:///system", false),
        ("qemu:///session", false),
        ("test:///default", false),
        ("test:///tmp/node.xml", false),
        ("qemu+unix:///system", false),
        ("qemu+ssh://root@node1/system", true),
        ("qemu+ssh://node1:2222/system?keyfile=/k", true),
        ("qemu+tcp://10.0.0.5/system", true),
        ("qemu://node1.lab/system", true),
        ("qemu+ssh://root@localhost/system", false),
        ("qemu+tls://127.0.0.1/system", false),
        ("qemu+ssh://[::1]/system", false),
        ("qemu+ssh://[fd00::5]:22/system", true),
    ])
    func remoteHeuristic(uri: String, remote: Bool) {
        #expect(Connection.isRemote(uri: uri) == remote)
    }

    @Test func errorDescriptionKeepsCodeDomainAndMessage() throws {
        let connection = try TestHost.connect()
        let error = try #require(throws: LibvirtError.self) {
            _ = try connection.domain(named: "ghost")
        }
        #expect(error.code == .noDomain)
        #expect(error.code.rawValue == 42)
        #expect(error.domain == 12)  // VIR_FROM_TEST
        // The test driver's lookup message does not name the domain; the QEMU driver's does.
        #expect(error.message == "Domain not found")
        #expect(error.description == "libvirt: Domain not found [code 42 noDomain, from test (12)]")
    }

    @Test func unnamedCodesRoundTrip() {
        let code = LibvirtError.Code(rawValue: 4242)
        #expect(code.name == nil)
        #expect(code.description == "4242")
        #expect(LibvirtError.Code.noDomainMetadata.rawValue == 80)
    }

    @Test func concurrentCallsKeepTheirOwnErrors() async throws {
        // libvirt connections are shared across threads while errors are thread-local: every
        // task must see the error of its own failed call, never a neighbour's. Tasks fail in
        // three different ways at once, interleaved with successful calls.
        let connection = try TestHost.connect()
        let pool = try connection.defineStoragePool(
            xml: StorageXML.dirPool(name: "par-pool", path: "/var/lib/nestlab/par"))
        try pool.create()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                group.addTask {
                    let domain = try connection.defineDomain(xml: plainDomainXML(name: "par-\(index)"))
                    try domain.create()
                    for attempt in 0..<25 {
                        let missing = "missing-\(index)-\(attempt)"
                        do throws(LibvirtError) {
                            switch index % 3 {
                            case 0: _ = try connection.domain(named: missing)
                            case 1: _ = try connection.network(named: missing)
                            default: _ = try pool.volume(named: missing)
                            }
                            Issue.record("lookup of \(missing) succeeded")
                        } catch {
                            switch index % 3 {
                            case 0: #expect(error.code == .noDomain)
                            case 1:
                                #expect(error.code == .noNetwork)
                                #expect(error.message.hasSuffix("'\(missing)'"))
                            default:
                                #expect(error.code == .noStorageVol)
                                #expect(error.message.hasSuffix("'\(missing)'"))
                            }
                        }
                        #expect(try connection.domain(named: "par-\(index)").isActive())
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try connection.listAllDomains(.active).count == 12)
    }
}
