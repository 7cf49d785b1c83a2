import Foundation
import Libvirt
import NestlabCore
import Testing

@testable import NestlabKit

/// Issue 20: libvirt's XML is decoded into typed descriptions with a real XML parser. The XML is
/// what libvirt's test driver (`test:///default`) gives back for objects defined here, and fixed
/// known answers; broken XML is a typed error, never a crash.
@Suite("libvirt XML is decoded into typed descriptions")
struct LibvirtXMLTests {
    /// A name no other test on `test:///default` (shared by the whole process) uses.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// nestlab's metadata under another prefix, beside another tool's element of the same local name.
    static let metadataElements = """
        <other:nestlab xmlns:other='http://example.com/other/1' lab='not-ours' machine='x'/>
        <nl:nestlab xmlns:nl='http://nestlab.dev/xmlns/lab/1' lab='xml' machine='vm-0' cluster='k8s'>
          <nl:spec digest='abc123'><nl:field name='vcpus' value='2'/><nl:field name='nic0' value='lab 10.77.0.10'/></nl:spec>
          <nl:volume role='overlay' pool='nestlab-xml' name='xml-vm-0.qcow2'/>
          <nl:volume role='base' pool='nestlab-images' name='base-0123.qcow2'/>
        </nl:nestlab>
        """

    static func expectMetadata(_ meta: LabMetadata?, ready: String? = nil) throws {
        let m = try #require(meta)
        #expect(m.lab == "xml" && m.machine == "vm-0" && m.cluster == "k8s")
        #expect(m.spec == MachineSpec(fields: [("vcpus", "2"), ("nic0", "lab 10.77.0.10")]))
        #expect(m.specDigest == "abc123")
        #expect(
            m.volumes.map { "\($0.role) \($0.pool) \($0.name)" } == [
                "overlay nestlab-xml xml-vm-0.qcow2", "base nestlab-images base-0123.qcow2",
            ])
        #expect(m.readyInstance == ready)
    }

    // MARK: what the test driver gives back

    @Test("a domain defined on the test driver: type, vCPUs, memory, hugepages, kernel, initrd, metadata")
    func testDriverDomain() throws {
        let c = try Connection(uri: "test:///default")
        let name = Self.unique("lxml-dom")
        let d = try c.defineDomain(
            xml: """
                <domain type='test'>
                  <name>\(name)</name>
                  <metadata>\(Self.metadataElements)</metadata>
                  <memory unit='MiB'>512</memory>
                  <memoryBacking><hugepages><page size='2' unit='M'/></hugepages></memoryBacking>
                  <vcpu placement='static'>2</vcpu>
                  <os><type>hvm</type><kernel>/srv/images/kernel-1</kernel><initrd>/srv/images/initrd-1</initrd></os>
                  <devices>
                    <disk type='volume' device='disk'>
                      <source pool='nestlab-xml' volume='xml-vm-0.qcow2'/><target dev='vda' bus='virtio'/>
                    </disk>
                  </devices>
                </domain>
                """)
        defer { try? d.undefine() }
        let domain = try DomainDescription(xml: try d.xmlDesc(flags: .inactive), of: name)
        #expect(domain.type == "test")
        #expect(domain.vcpus == 2)
        #expect(domain.memoryKiB == 524_288, "libvirt writes MiB as KiB")
        #expect(domain.hugepageKiB == 2048, "libvirt writes 2 M as 2048 KiB")
        #expect(domain.kernel == "/srv/images/kernel-1" && domain.initrd == "/srv/images/initrd-1")
        try Self.expectMetadata(domain.metadata)

        // The element libvirt's metadata API returns (no prefix) decodes to the same, with `ready` once recorded.
        let api = try #require(try d.metadataIfPresent(uri: NestlabXMLNS.uri))
        try Self.expectMetadata(try LabMetadata.parse(api, domain: name))
        try d.setMetadata(
            api.replacingOccurrences(of: "</nestlab>", with: "<ready instance='iid-7'/></nestlab>"),
            key: NestlabXMLNS.key, uri: NestlabXMLNS.uri)
        let withReady = try DomainDescription(xml: try d.xmlDesc(flags: .inactive), of: name)
        try Self.expectMetadata(withReady.metadata, ready: "iid-7")
        try Self.expectMetadata(
            try LabMetadata.parse(try d.metadata(uri: NestlabXMLNS.uri), domain: name), ready: "iid-7")
    }

    @Test("the test driver's own domain: its one file disk, and no nestlab metadata, kernel, initrd or hugepages")
    func testDriverDefaultDomain() throws {
        let c = try Connection(uri: "test:///default")
        let domain = try DomainDescription(xml: try c.domain(named: "test").xmlDesc(), of: "test")
        #expect(
            domain
                == DomainDescription(
                    type: "test", vcpus: 2, memoryKiB: 8_388_608, hugepageKiB: nil, kernel: nil, initrd: nil,
                    disks: [.init(file: "/guest/diskimage1")], metadata: nil))
    }

    @Test("a network defined on the test driver: its IPv4 and IPv6 addresses")
    func testDriverNetwork() throws {
        let c = try Connection(uri: "test:///default")
        let name = Self.unique("lxml-net")
        let n = try c.defineNetwork(
            xml: """
                <network>
                  <name>\(name)</name>
                  <bridge name='lx\(name.suffix(8))'/>
                  <ip address='10.77.0.1' netmask='255.255.255.0'>
                    <dhcp><range start='10.77.0.100' end='10.77.0.200'/></dhcp>
                  </ip>
                  <ip family='ipv6' address='fd00:77::1' prefix='64'/>
                </network>
                """)
        defer { try? n.undefine() }
        #expect(
            try NetworkDescription(xml: try n.xmlDesc(), of: name).ips == [
                .init(address: "10.77.0.1", netmask: "255.255.255.0"), .init(address: "fd00:77::1", netmask: nil),
            ])
        #expect(
            try NetworkDescription(xml: try c.network(named: "default").xmlDesc(), of: "default").ips == [
                .init(address: "192.168.122.1", netmask: "255.255.255.0")
            ])
    }

    @Test("a pool, a raw volume and a qcow2 overlay on it, defined on the test driver")
    func testDriverPoolAndVolumes() throws {
        let c = try Connection(uri: "test:///default")
        let name = Self.unique("lxml-pool")
        let dir = "/nestlab-xml-test/\(name)"
        let p = try c.defineStoragePool(
            xml: "<pool type='dir'><name>\(name)</name><target><path>\(dir)</path></target></pool>")
        defer { try? p.undefine() }
        try p.build()
        try p.create()
        defer { try? p.destroy() }
        #expect(try PoolDescription(xml: try p.xmlDesc(), of: name) == PoolDescription(targetPath: dir))
        #expect(
            try PoolDescription(xml: try c.storagePool(named: "default-pool").xmlDesc(), of: "default-pool")
                .targetPath == "/default-pool")

        let base = try p.createVolume(
            xml: """
                <volume><name>base-1.raw</name><capacity unit='bytes'>1048576</capacity>
                <target><format type='raw'/></target></volume>
                """)
        defer { try? base.delete() }
        let overlay = try p.createVolume(
            xml: """
                <volume><name>vm-0.qcow2</name><capacity unit='G'>2</capacity>
                <target><format type='qcow2'/></target>
                <backingStore><path>\(dir)/base-1.raw</path><format type='raw'/></backingStore></volume>
                """)
        defer { try? overlay.delete() }
        #expect(
            try VolumeDescription(xml: try base.xmlDesc(), of: "base-1.raw")
                == VolumeDescription(
                    path: "\(dir)/base-1.raw", format: "raw", capacity: 1_048_576, physical: nil, backingStore: nil))
        #expect(
            try VolumeDescription(xml: try overlay.xmlDesc(), of: "vm-0.qcow2")
                == VolumeDescription(
                    path: "\(dir)/vm-0.qcow2", format: "qcow2", capacity: 2 << 30, physical: nil,
                    backingStore: .init(path: "\(dir)/base-1.raw", format: "raw")))
    }

    @Test("the test driver's capabilities: no CPU model, two NUMA cells, test domains only")
    func testDriverCapabilities() throws {
        let c = try Connection(uri: "test:///default")
        let caps = try HostCapabilities(xml: try c.capabilities(), of: "h1")
        #expect(
            caps
                == HostCapabilities(
                    cpuModel: nil, cpuVendor: nil, cpuFeatures: [],
                    numaCells: [.init(id: 0, cpus: Array(0...7)), .init(id: 1, cpus: Array(8...15))],
                    guestDomainTypes: ["test", "test"]))
        let facts = HostSession.facts(from: caps, kvmUsable: false)
        #expect(facts.cpuVendor == nil)
        #expect(facts.numaNodes == [0: CPUSet(0...7), 1: CPUSet(8...15)])
        #expect(facts.onlineCPUs == CPUSet(0...15))
        let kvm = KVMCheck.judge(caps)
        #expect(!kvm.usable && kvm.reason == "libvirt offers no kvm domains (no /dev/kvm, or QEMU lacks KVM)")
    }

    // MARK: known answers

    @Test("a KVM domain with nestlab's metadata: the element is found by its namespace, entities replaced")
    func knownDomain() throws {
        let xml = """
            <domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>kt-vm-0</name>
              <uuid>0f7e2c1a-5d4b-4c3a-8e2f-abcdefabcdef</uuid>
              <metadata>
                \(Self.metadataElements)
              </metadata>
              <memory unit='KiB'>4194304</memory>
              <memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
              <vcpu placement='static'>4</vcpu>
              <vcpus><vcpu id='0' enabled='yes'/></vcpus>
              <os><type arch='x86_64'>hvm</type><kernel>/srv/a&amp;b/vmlinuz</kernel><initrd><![CDATA[/srv/i<1>]]></initrd></os>
              <devices><memory model='dimm'><target><size unit='KiB'>1</size></target></memory>
                <disk type='volume' device='disk'><source pool='nestlab-kt' volume='kt-vm-0.qcow2'/></disk>
                <disk type='file' device='cdrom'><source file='/srv/x.iso'/></disk>
                <disk type='block' device='disk'><source dev='/dev/sdb'/></disk>
                <disk type='file' device='cdrom'><target dev='hdc'/></disk>
              </devices>
            </domain>
            """
        let domain = try DomainDescription(xml: xml, of: "kt-vm-0")
        // Every disk with a source (an empty cdrom has none), as a pool volume or a host path.
        #expect(
            domain.disks == [
                .init(pool: "nestlab-kt", volume: "kt-vm-0.qcow2"), .init(file: "/srv/x.iso"), .init(file: "/dev/sdb"),
            ])
        #expect(domain.type == "kvm" && domain.vcpus == 4 && domain.memoryKiB == 4_194_304)
        #expect(domain.hugepageKiB == 1_048_576)
        #expect(domain.kernel == "/srv/a&b/vmlinuz" && domain.initrd == "/srv/i<1>")
        try Self.expectMetadata(domain.metadata)

        // Another tool's element of the same local name, in its own namespace, is not nestlab's.
        let foreign = xml.replacingOccurrences(of: "http://nestlab.dev/xmlns/lab/1", with: "http://example.com/2")
        #expect(try DomainDescription(xml: foreign, of: "kt-vm-0").metadata == nil)
    }

    @Test(
        "a hugepage size in KiB whatever its unit",
        arguments: [
            ("<page size='2048' unit='KiB'/>", 2048), ("<page size='2048'/>", 2048),
            ("<page size='2' unit='M'/>", 2048), ("<page size='2' unit='MiB'/>", 2048),
            ("<page size='1' unit='g'/>", 1_048_576), ("<page size='x' unit='KiB'/>", nil),
            // A size whose KiB do not fit 64 bits is no size, not a crash.
            ("<page size='18446744073709551615' unit='G'/>", nil),
        ] as [(String, UInt64?)])
    func hugepageUnits(page: String, kib: UInt64?) throws {
        let xml = "<domain><memoryBacking><hugepages>\(page)</hugepages></memoryBacking></domain>"
        #expect(try DomainDescription(xml: xml, of: "d").hugepageKiB == kib)
    }

    @Test("nestlab's metadata as libvirt's metadata API gives it: any prefix, either quote style")
    func knownMetadata() throws {
        let api = """
            <nestlab lab="xml" machine="vm-0" cluster="k8s">
              <spec digest="abc123">
                <field name="vcpus" value="2"/>
                <field name="nic0" value="lab 10.77.0.10"/>
              </spec>
              <volume role="overlay" pool="nestlab-xml" name="xml-vm-0.qcow2"/>
              <volume role="base" pool="nestlab-images" name="base-0123.qcow2"/>
              <ready instance="iid-1"/>
            </nestlab>
            """
        try Self.expectMetadata(try LabMetadata.parse(api, domain: "kt-vm-0"), ready: "iid-1")
        let prefixed = api.replacingOccurrences(of: "<", with: "<p:").replacingOccurrences(of: "<p:/", with: "</p:")
            .replacingOccurrences(of: "\"", with: "'")
            .replacingOccurrences(of: "<p:nestlab ", with: "<p:nestlab xmlns:p='http://nestlab.dev/xmlns/lab/1' ")
        try Self.expectMetadata(try LabMetadata.parse(prefixed, domain: "kt-vm-0"), ready: "iid-1")
        #expect(try LabMetadata.parse("<other lab='a' machine='b'/>", domain: "d") == nil)
        #expect(try LabMetadata.parse("<nestlab lab='a'/>", domain: "d") == nil, "no machine")
        let bare = try #require(try LabMetadata.parse("<nestlab lab='a' machine='b'/>", domain: "d"))
        #expect(bare.cluster == nil && bare.spec.fields.isEmpty && bare.specDigest == "" && bare.volumes.isEmpty)
    }

    @Test("a qcow2 overlay's volume XML: its own fields and its backing store's apart")
    func knownVolume() throws {
        let xml = """
            <volume type='file'><name>o.qcow2</name><capacity unit='bytes'>4294967296</capacity>
            <allocation unit='bytes'>200704</allocation><physical unit='bytes'>196624</physical>
            <target><path>/p/o.qcow2</path><format type='qcow2'/></target>
            <backingStore><path>/p/images/base-1.qcow2</path><format type='raw'/></backingStore></volume>
            """
        #expect(
            try VolumeDescription(xml: xml, of: "o.qcow2")
                == VolumeDescription(
                    path: "/p/o.qcow2", format: "qcow2", capacity: 4_294_967_296, physical: 196_624,
                    backingStore: .init(path: "/p/images/base-1.qcow2", format: "raw")))
        // Sizes in another unit are not taken for bytes; a backing store may name no format.
        let other = """
            <volume><capacity unit='KiB'>4</capacity><physical>512</physical>
            <backingStore><path>/p/b</path></backingStore></volume>
            """
        #expect(
            try VolumeDescription(xml: other, of: "x")
                == VolumeDescription(
                    path: nil, format: nil, capacity: nil, physical: 512,
                    backingStore: .init(path: "/p/b", format: nil)))
    }

    @Test("a KVM host's capabilities: CPU model, vendor and features, NUMA cells, guest domain types")
    func knownCapabilities() throws {
        let xml = """
            <capabilities>
              <host>
                <uuid>4c4c4544-0042-3510-8052-b4c04f4d4d32</uuid>
                <cpu>
                  <arch>x86_64</arch><model>Icelake-Server</model><vendor>Intel</vendor>
                  <topology sockets='1' dies='1' cores='2' threads='2'/>
                  <feature name='ds'/><feature name='vmx'/><pages unit='KiB' size='4'/>
                </cpu>
                <topology><cells num='2'>
                  <cell id='0'><memory unit='KiB'>1</memory><cpus num='2'><cpu id='0'/><cpu id='2'/></cpus></cell>
                  <cell id='1'><cpus num='2'><cpu id='1' siblings='1,3'/><cpu id='3'/></cpus></cell>
                </cells></topology>
                <secmodel><model>apparmor</model><doi>0</doi></secmodel>
              </host>
              <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
              <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>
            </capabilities>
            """
        let caps = try HostCapabilities(xml: xml, of: "h1")
        #expect(
            caps
                == HostCapabilities(
                    cpuModel: "Icelake-Server", cpuVendor: "Intel", cpuFeatures: ["ds", "vmx"],
                    numaCells: [.init(id: 0, cpus: [0, 2]), .init(id: 1, cpus: [1, 3])],
                    guestDomainTypes: ["qemu", "kvm", "qemu"]))
        let facts = HostSession.facts(from: caps, kvmUsable: true)
        #expect(facts.cpuVendor == .intel && facts.numaNodes == [0: CPUSet([0, 2]), 1: CPUSet([1, 3])])
        let kvm = KVMCheck.judge(caps)
        #expect(kvm.usable && kvm.reason == "kvm domains offered and the CPU has vmx")

        let amdWithoutSVM = xml.replacingOccurrences(of: "Intel", with: "AMD")
            .replacingOccurrences(of: "'vmx'", with: "'x2apic'")
        let amd = try HostCapabilities(xml: amdWithoutSVM, of: "h2")
        #expect(HostSession.facts(from: amd, kvmUsable: false).cpuVendor == .amd)
        #expect(!KVMCheck.judge(amd).usable)
        #expect(KVMCheck.judge(amd).reason.hasPrefix("the host CPU shows neither vmx nor svm"))
    }

    // MARK: broken XML

    @Test("broken XML of every kind is a typed error naming the object, the line and why")
    func malformed() throws {
        let broken = "<domain type='kvm'>\n  <name>kt-vm-0</name>\n  <vcpu>2</domain>"
        let reason = "an end tag that does not match its start tag"
        #expect(throws: LibvirtXMLError.malformed(kind: .domain, name: "kt-vm-0", line: 3, reason: reason)) {
            try DomainDescription(xml: broken, of: "kt-vm-0")
        }
        #expect(throws: LibvirtXMLError.malformed(kind: .network, name: "kt-lab", line: 3, reason: reason)) {
            try NetworkDescription(xml: broken, of: "kt-lab")
        }
        #expect(throws: LibvirtXMLError.malformed(kind: .pool, name: "nestlab-kt", line: 3, reason: reason)) {
            try PoolDescription(xml: broken, of: "nestlab-kt")
        }
        #expect(throws: LibvirtXMLError.malformed(kind: .volume, name: "kt-vm-0.qcow2", line: 3, reason: reason)) {
            try VolumeDescription(xml: broken, of: "kt-vm-0.qcow2")
        }
        #expect(throws: LibvirtXMLError.malformed(kind: .capabilities, name: "h1", line: 3, reason: reason)) {
            try HostCapabilities(xml: broken, of: "h1")
        }
        #expect(throws: LibvirtXMLError.malformed(kind: .metadata, name: "kt-vm-0", line: 3, reason: reason)) {
            try LabMetadata.parse(broken, domain: "kt-vm-0")
        }
        let error = try #require(throws: LibvirtXMLError.self) { try DomainDescription(xml: broken, of: "kt-vm-0") }
        #expect(
            error.description
                == "libvirt's XML for domain 'kt-vm-0' is not well-formed: line 3: an end tag that does not match its start tag"
        )
        #expect(error.kind == .domain && error.name == "kt-vm-0")
    }

    @Test(
        "each way XML can be broken is an error with its reason",
        arguments: [
            ("<volume><name>v</name>", 1, "the document ends before or after its root element"),
            ("<volume a='1' a='2'/>", 1, "an attribute given twice"),
            ("<volume a=1/>", 1, "an attribute value without quotes"),
            ("<volume>&nbsp;</volume>", 1, "an undeclared entity"),
            ("<volume><x:path/></volume>", 1, "an undeclared namespace prefix"),
            ("<volume/>\n<volume/>", 2, "the document ends before or after its root element"),
            ("not XML", 1, "the document is empty"),
        ])
    func malformedReasons(xml: String, line: Int, reason: String) {
        #expect(throws: LibvirtXMLError.malformed(kind: .volume, name: "v", line: line, reason: reason)) {
            try VolumeDescription(xml: xml, of: "v")
        }
    }

    @Test("an empty answer holds no element; another kind's XML has the wrong root; a libxml2 warning is no error")
    func emptyAndWrongRoot() throws {
        for xml in ["", "  ", "<a>"] {
            let e = try #require(throws: LibvirtXMLError.self) { try PoolDescription(xml: xml, of: "p") }
            #expect(e == .noElement(kind: .pool, name: "p"))
            #expect(e.description == "libvirt's XML for storage pool 'p' holds no element")
        }
        let e = try #require(throws: LibvirtXMLError.self) {
            try HostCapabilities(xml: "<domain type='kvm'/>", of: "h1")
        }
        #expect(e == .wrongRoot(kind: .capabilities, name: "h1", found: "domain"))
        #expect(e.description == "libvirt's XML for the capabilities of host 'h1' is a <domain>, not a <capabilities>")
        // A root of the right name in a namespace is not libvirt's.
        #expect(throws: LibvirtXMLError.wrongRoot(kind: .network, name: "n", found: "network")) {
            try NetworkDescription(xml: "<network xmlns='http://example.com/'/>", of: "n")
        }
        // libxml2 warns about XML 1.1 and reads it as 1.0.
        let v11 = "<?xml version='1.1'?><volume><target><path>/p/v</path></target></volume>"
        #expect(try VolumeDescription(xml: v11, of: "v").path == "/p/v")
    }
}
