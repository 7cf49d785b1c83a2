import Foundation
import Libvirt
import NestlabCore
import NestlabKit
import Testing

/// `up` against the libvirt test driver, checked through libvirt's own API.
@Suite("up creates the lab and converges")
struct UpTests {
    @Test("up creates exactly the lab's domains, networks, pools and volumes")
    func upCreatesExactlyTheExpectedObjects() async throws {
        let lab = try KitLab()
        let report = try await lab.up()
        let c = try lab.connection

        #expect(report.changed)
        #expect(report.ok)
        #expect(report.machines.map(\.name) == ["vm-0", "vm-1"])
        #expect(report.machines.map(\.action) == ["create", "create"])
        #expect(report.networksCreated == ["h1:kt-lab"])

        // Domains: exactly the two machines, running, with nestlab's derived UUIDs.
        #expect(try c.listAllDomains().map(\.name).sorted() == ["kt-vm-0", "kt-vm-1"])

        // One network, with the derived UUID, active, and a static DHCP host per machine.
        let nets = try c.listAllNetworks()
        #expect(nets.map(\.name) == ["kt-lab"])
        let net = try #require(nets.first)
        #expect(net.uuid == Identity.uuid("network", "kt", "lab"))
        #expect(try net.isActive())
        let netXML = try net.xmlDesc()
        #expect(try XPath.attributes(netXML, "/network/ip") == [["address": "10.77.0.1", "netmask": "255.255.255.0"]])
        #expect(
            try XPath.attributes(netXML, "/network/ip/dhcp/host").map { "\($0["name"] ?? "") \($0["ip"] ?? "")" }
                == ["vm-0 10.77.0.10", "vm-1 10.77.0.11"])

        // Pools: the shared image pool and the lab's own, at the topology's storageDir.
        let pools = try c.listAllStoragePools()
        #expect(pools.map(\.name).sorted() == ["nestlab-images", "nestlab-kt"])
        #expect(try lab.pool("nestlab-images").uuid == Identity.uuid("pool", "images"))
        #expect(try lab.pool("nestlab-kt").uuid == Identity.uuid("pool", "kt"))
        #expect(try lab.pool("nestlab-images").targetPath() == lab.imagesDir)
        #expect(try lab.pool("nestlab-kt").targetPath() == lab.labPoolDir)

        // The base image, kernel and initrd once, content-addressed, byte-identical copies.
        let baseSHA = try KitLab.sha256(lab.baseImage)
        let base = "base-\(baseSHA.prefix(16)).qcow2"
        let kernel = "kernel-\(try KitLab.sha256(lab.kernel).prefix(16))"
        let initrd = "initrd-\(try KitLab.sha256(lab.initrd).prefix(16))"
        #expect(try lab.volumeNames("nestlab-images") == [base, initrd, kernel])
        #expect(Set(report.imagesPlaced) == Set(["h1:\(base)", "h1:\(kernel)", "h1:\(initrd)"]))
        #expect(try KitLab.sha256("\(lab.imagesDir)/\(base)") == baseSHA)
        #expect(try KitLab.sha256("\(lab.imagesDir)/\(initrd)") == KitLab.sha256(lab.initrd))

        // Per machine: one overlay on the base, one seed.
        let labVolumes = try lab.volumeNames("nestlab-kt")
        #expect(labVolumes.count == 4)
        let session = try lab.open()
        for m in ["vm-0", "vm-1"] {
            let rm = try #require(session.rendered.machine(named: m))
            #expect(labVolumes.contains("kt-\(m).qcow2"))
            #expect(rm.seedVolume.range(of: #"^kt-\#(m)-seed-[0-9a-f]{12}\.iso$"#, options: .regularExpression) != nil)
            #expect(labVolumes.contains(rm.seedVolume))

            let overlay = try lab.pool("nestlab-kt").volume(named: "kt-\(m).qcow2").xmlDesc()
            #expect(try XPath.text(overlay, "/volume/backingStore/path") == "\(lab.imagesDir)/\(base)")
            #expect(try XPath.attributes(overlay, "/volume/backingStore/format") == [["type": "qcow2"]])
            #expect(try XPath.attributes(overlay, "/volume/target/format") == [["type": "qcow2"]])
            #expect(try XPath.text(overlay, "/volume/capacity") == "\(2 << 30)")

            // The seed is a real NoCloud ISO, written 0600 (it can carry secrets).
            let seedPath = "\(lab.labPoolDir)/\(rm.seedVolume)"
            let attrs = try FileManager.default.attributesOfItem(atPath: seedPath)
            #expect((attrs[.posixPermissions] as? Int) == 0o600)
            #expect(try run("/usr/bin/isoinfo", ["-d", "-i", seedPath]).contains("Volume id: cidata"))
            let userData = try run("/usr/bin/isoinfo", ["-J", "-i", seedPath, "-x", "/user-data"])
            #expect(userData.hasPrefix("#cloud-config\n"))
            #expect(userData == rm.seed.userData)
        }
    }

    @Test("the defined domain carries the pinning, hugepages, disks and nestlab's metadata")
    func domainXML() async throws {
        let lab = try KitLab()
        try await lab.up()
        let session = try lab.open()
        let baseSHA = try KitLab.sha256(lab.baseImage)
        // Host CPU 0 is reserved (emulator), so vCPUs go 1:1 onto 1-2 and 3-4.
        let pins = ["vm-0": [0: [1], 1: [2]], "vm-1": [0: [3], 1: [4]]]
        for (m, pin) in pins.sorted(by: { $0.key < $1.key }) {
            let d = try lab.domain(m)
            let rm = try #require(session.rendered.machine(named: m))
            #expect(try d.isActive())
            #expect(d.uuid == Identity.uuid("domain", "kt", m))
            let xml = try d.xmlDesc(flags: .inactive)

            #expect(
                try XPath.attributes(xml, "/domain/cputune/vcpupin")
                    == pin.sorted { $0.key < $1.key }.map {
                        ["vcpu": "\($0.key)", "cpuset": "\($0.value[0])"]
                    })
            #expect(try XPath.attributes(xml, "/domain/cputune/emulatorpin") == [["cpuset": "0"]])
            #expect(try d.vcpuPinInfo() == pin)
            #expect(try d.emulatorPinInfo() == [0])
            #expect(
                try XPath.attributes(xml, "/domain/memoryBacking/hugepages/page") == [["size": "2048", "unit": "KiB"]])
            #expect(try XPath.text(xml, "/domain/memory") == "524288")
            #expect(try XPath.text(xml, "/domain/vcpu") == "2")

            #expect(
                try XPath.attributes(xml, "/domain/devices/disk/source") == [
                    ["pool": "nestlab-kt", "volume": "kt-\(m).qcow2"], ["pool": "nestlab-kt", "volume": rm.seedVolume],
                ])
            #expect(
                try XPath.text(xml, "/domain/os/kernel")
                    == "\(lab.imagesDir)/kernel-\(try KitLab.sha256(lab.kernel).prefix(16))")
            #expect(try XPath.text(xml, "/domain/os/cmdline") == "root=/dev/vda console=ttyS0")

            // Metadata, read through libvirt's metadata API: lab, machine, and the spec digest.
            let meta = try d.metadata(uri: NestlabXMLNS.uri, flags: .config)
            let root = try #require(try XPath.attributes(meta, "/*[local-name()='nestlab']").first)
            #expect(root["lab"] == "kt")
            #expect(root["machine"] == m)
            let digest = try #require(try XPath.attributes(meta, "//*[local-name()='spec']").first?["digest"])
            #expect(digest == rm.spec.digest)
            // The digest is SHA-256 over the listed fields, so the fields are what was digested.
            let fields = try XPath.attributes(meta, "//*[local-name()='field']").map {
                ($0["name"] ?? "", $0["value"] ?? "")
            }
            let text = fields.map { "\($0.0)=\($0.1)\n" }.joined()
            let f = lab.dir.appendingPathComponent("fields-\(m)")
            try Data(text.utf8).write(to: f)
            #expect(try KitLab.sha256(f.path) == digest)
            let byName = Dictionary(fields, uniquingKeysWith: { a, _ in a })
            #expect(byName["vcpus"] == "2")
            #expect(byName["memory"] == "512MiB")
            #expect(byName["hugepages"] == "2M")
            #expect(byName["vcpupin"] == pin.sorted { $0.key < $1.key }.map { "\($0.value[0])" }.joined(separator: " "))
            #expect(byName["image"] == baseSHA)
            let volumes = try XPath.attributes(meta, "//*[local-name()='volume']").map {
                "\($0["role"] ?? "") \($0["pool"] ?? "") \($0["name"] ?? "")"
            }
            #expect(
                volumes == [
                    "overlay nestlab-kt kt-\(m).qcow2", "seed nestlab-kt \(rm.seedVolume)",
                    "base nestlab-images base-\(baseSHA.prefix(16)).qcow2",
                ])
        }
    }

    @Test("a second up changes nothing: same objects, same UUIDs, no restarts")
    func secondUpIsANoop() async throws {
        let lab = try KitLab()
        try await lab.up()
        let before = try LibvirtSnapshot(lab.connection)

        let plan = try lab.plan()
        #expect(plan.isNoop)
        #expect(plan.machines.map(\.action) == [.unchanged(running: true), .unchanged(running: true)])
        #expect(plan.networks.map(\.exists) == [true])
        #expect(plan.missingImages == ["h1": []])
        #expect(plan.orphans == ["h1": []])

        let report = try await lab.up()
        #expect(!report.changed)
        #expect(report.ok)
        #expect(report.machines.map(\.action) == ["unchanged", "unchanged"])
        #expect(report.networksCreated.isEmpty)
        #expect(report.imagesPlaced.isEmpty)
        let after = try LibvirtSnapshot(lab.connection)
        #expect(after == before)
    }

    @Test("a stopped machine is started again, nothing else changes")
    func upStartsAStoppedMachine() async throws {
        let lab = try KitLab()
        try await lab.up()
        try lab.domain("vm-1").destroy()
        let before = try LibvirtSnapshot(lab.connection)
        #expect(try lab.plan().machines.map(\.action) == [.unchanged(running: true), .unchanged(running: false)])

        let report = try await lab.up()
        #expect(report.changed)
        #expect(report.machines.map(\.action) == ["unchanged", "start"])
        #expect(try lab.domain("vm-1").isActive())
        let after = try LibvirtSnapshot(lab.connection)
        #expect(after.volumes == before.volumes)
        #expect(after.domains["kt-vm-0"] == before.domains["kt-vm-0"])
        #expect(after.domains["kt-vm-1"]?.xml == before.domains["kt-vm-1"]?.xml)
    }

    @Test("a foreign domain with a machine's name stops up before it creates anything")
    func foreignDomainWithTheSameName() async throws {
        let lab = try KitLab()
        let c = try lab.connection
        let foreign = try c.defineDomain(xml: Foreign.domainXML(name: "kt-vm-1"))
        try foreign.create()
        let before = try LibvirtSnapshot(c)

        #expect(try lab.plan().machines.map(\.action) == [.create, .foreign])
        let error = await #expect(throws: UpError.self) { try await lab.up() }
        #expect(
            error.map { "\($0)" } == """
                nothing was created, because these objects exist but do not belong to this lab:
                  domain 'kt-vm-1' on h1
                rename or remove them, or give the lab another name
                """)
        #expect(try LibvirtSnapshot(c) == before)
    }
}

/// Objects that nestlab did not create, made directly through libvirt.
enum Foreign {
    static func domainXML(name: String, uuid: String? = nil, metadata: String = "") -> String {
        """
        <domain type='test'>
          <name>\(name)</name>
          \(uuid.map { "<uuid>\($0)</uuid>" } ?? "")
          <metadata>\(metadata)</metadata>
          <memory unit='MiB'>256</memory>
          <vcpu>1</vcpu>
          <os><type>hvm</type></os>
        </domain>
        """
    }

    /// nestlab's metadata element as another lab would have it.
    static func labMetadata(lab: String, machine: String, base: String) -> String {
        """
        <nestlab:nestlab xmlns:nestlab='\(NestlabXMLNS.uri)' lab='\(lab)' machine='\(machine)'>\
        <nestlab:spec digest='0000'/><nestlab:volume role='base' pool='nestlab-images' name='\(base)'/></nestlab:nestlab>
        """
    }

    static func networkXML(name: String, uuid: String, bridge: String, address: String) -> String {
        """
        <network>
          <name>\(name)</name>
          <uuid>\(uuid)</uuid>
          <bridge name='\(bridge)'/>
          <ip address='\(address)' netmask='255.255.255.0'/>
        </network>
        """
    }

    static func poolXML(name: String, uuid: String, path: String) -> String {
        "<pool type='dir'><name>\(name)</name><uuid>\(uuid)</uuid><target><path>\(path)</path></target></pool>"
    }

    static func volumeXML(name: String, bytes: Int = 1 << 20) -> String {
        "<volume><name>\(name)</name><capacity unit='bytes'>\(bytes)</capacity><allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>"
    }

    @discardableResult
    static func pool(_ c: Connection, name: String, uuid: String, path: String) throws -> StoragePool {
        let p = try c.defineStoragePool(xml: poolXML(name: name, uuid: uuid, path: path))
        try p.create()
        return p
    }
}
