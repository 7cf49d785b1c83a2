import Foundation
import Libvirt
import NestlabCore
import NestlabKit
import Testing

/// `down` against the libvirt test driver: the lab goes, everything else stays.
@Suite("down removes exactly the lab")
struct DownTests {
    /// Objects another lab or a person made, with names that look like lab `kt`'s.
    struct Bystanders {
        static let otherBase = "base-ffffffffffffffff.qcow2"

        /// Creates them on the lab's host, before the lab exists.
        static func make(_ lab: KitLab) throws {
            let c = try lab.connection
            // A domain with the lab's prefix but no nestlab metadata.
            try c.defineDomain(xml: Foreign.domainXML(name: "kt-foreign")).create()
            // A domain of lab `kt-x`, whose name starts with `kt-` too, tagged for that lab.
            try c.defineDomain(
                xml: Foreign.domainXML(
                    name: "kt-x-vm-0", metadata: Foreign.labMetadata(lab: "kt-x", machine: "vm-0", base: otherBase))
            )
            .create()
            // Networks with the lab's prefix: one of nobody, one that is lab kt-x's `lab` network.
            let other = try c.defineNetwork(
                xml: Foreign.networkXML(
                    name: "kt-other", uuid: "6b1a4a8e-0b1c-4d8e-9f00-123456789abc",
                    bridge: "ktother0", address: "10.99.0.1"))
            try other.create()
            try c.defineNetwork(
                xml: Foreign.networkXML(
                    name: "kt-x-lab", uuid: Identity.uuid("network", "kt-x", "lab"),
                    bridge: "ktx0", address: "10.98.0.1")
            ).create()
            // Lab kt-x's pool, with its overlay.
            let xPool = try Foreign.pool(
                c, name: "nestlab-kt-x", uuid: Identity.uuid("pool", "kt-x"), path: "\(lab.storage)/kt-x")
            _ = try xPool.createVolume(xml: Foreign.volumeXML(name: "kt-x-vm-0.qcow2"))
            // Someone's own pool, holding volumes named like the lab's.
            let mine = try Foreign.pool(
                c, name: "default", uuid: "0f7e2c1a-5d4b-4c3a-8e2f-abcdefabcdef", path: "\(lab.dir.path)/default")
            _ = try mine.createVolume(xml: Foreign.volumeXML(name: "kt-vm-0.qcow2"))
            _ = try mine.createVolume(xml: Foreign.volumeXML(name: "kt-vm-0-seed-000000000000.iso"))
            // The shared image pool exists already (lab kt-x put its base image there).
            let images = try Foreign.pool(
                c, name: "nestlab-images", uuid: Identity.uuid("pool", "images"), path: lab.imagesDir)
            _ = try images.createVolume(xml: Foreign.volumeXML(name: otherBase))
        }
    }

    @Test("down removes every object of the lab and keeps every bystander, whatever its name")
    func downKeepsBystanders() async throws {
        let lab = try KitLab()
        try Bystanders.make(lab)
        let c = try lab.connection
        let before = try LibvirtSnapshot(c)
        try await lab.up()
        #expect(try c.listAllDomains().count == before.domains.count + 2)

        let report = try await lab.down()
        #expect(report.domains.sorted() == ["h1:kt-vm-0", "h1:kt-vm-1"])
        #expect(report.networks == ["h1:kt-lab"])
        #expect(report.pools == ["h1:nestlab-kt"])
        #expect(report.volumes.count == 4)
        #expect(report.images.isEmpty)
        #expect(
            report.kept.sorted() == ["h1: network kt-other (not this lab's)", "h1: network kt-x-lab (not this lab's)"])

        // libvirt holds what it held before up, plus the cached base images (kept for the next up).
        let after = try LibvirtSnapshot(c)
        #expect(after.domains == before.domains)  // same UUIDs, same ids (never restarted), same XML
        #expect(after.networks == before.networks)
        #expect(after.pools == before.pools)
        let added = Set(after.volumes.keys).subtracting(before.volumes.keys)
        #expect(
            added.allSatisfy {
                $0.hasPrefix("nestlab-images/base-") || $0.hasPrefix("nestlab-images/kernel-")
                    || $0.hasPrefix("nestlab-images/initrd-")
            })
        #expect(added.count == 3)
        #expect(before.volumes.allSatisfy { after.volumes[$0.key] == $0.value })

        // Running down again finds nothing of the lab.
        let again = try await lab.down()
        #expect(!again.removedAnything)
        #expect(try LibvirtSnapshot(c) == after)
    }

    @Test("down --purge also removes base images no domain uses, and the lab's local state")
    func purge() async throws {
        let lab = try KitLab()
        try Bystanders.make(lab)
        let c = try lab.connection
        let before = try LibvirtSnapshot(c)
        try await lab.up()
        let state = lab.store.lab("kt")
        #expect(FileManager.default.fileExists(atPath: state.sshKey.path))

        let report = try await lab.down(purge: true)
        #expect(report.images.count == 3)
        #expect(report.stateRemoved)
        #expect(!FileManager.default.fileExists(atPath: state.dir.path))
        // The other lab's base image stays: its domain's metadata names it.
        #expect(try lab.volumeNames("nestlab-images") == [Bystanders.otherBase])
        #expect(try LibvirtSnapshot(c) == before)
    }

    @Test("down --purge keeps every image something else on the host uses: a disk, a file, a backing store")
    func purgeKeepsImagesInUse() async throws {
        let lab = try KitLab()
        try await lab.up()
        let images = try lab.pool("nestlab-images")
        let names = try images.listAllVolumes().map(\.name).sorted()
        let base = try #require(names.first { $0.hasPrefix("base-") })
        let kernelPath = try images.volume(named: try #require(names.first { $0.hasPrefix("kernel-") })).path()
        let initrdPath = try images.volume(named: try #require(names.first { $0.hasPrefix("initrd-") })).path()
        let c = try lab.connection
        // Not nestlab's: a domain whose disk is the base as a pool volume, one whose disk is the
        // kernel's file, and a volume in another pool made on top of the initrd.
        func domain(_ name: String, disk: String) -> String {
            Foreign.domainXML(name: name).replacingOccurrences(
                of: "</domain>", with: "<devices>\(disk)</devices></domain>")
        }
        _ = try c.defineDomain(
            xml: domain(
                "other-a",
                disk: "<disk type='volume' device='disk'><source pool='nestlab-images' volume='\(base)'/>"
                    + "<target dev='vda' bus='virtio'/></disk>"))
        _ = try c.defineDomain(
            xml: domain(
                "other-b",
                disk: "<disk type='file' device='disk'><source file='\(kernelPath)'/>"
                    + "<target dev='vdb' bus='virtio'/></disk>"))
        let pool = try c.defineStoragePool(
            xml: Foreign.poolXML(name: "other-pool", uuid: "6f1d1c2e-0000-4000-8000-000000000001", path: "/other"))
        try pool.create()
        _ = try pool.createVolume(
            xml: "<volume><name>layer.qcow2</name><capacity unit='bytes'>1048576</capacity>"
                + "<target><format type='qcow2'/></target>"
                + "<backingStore><path>\(initrdPath)</path><format type='raw'/></backingStore></volume>")

        let report = try await lab.down(purge: true)
        #expect(report.images.isEmpty, "\(report.images)")
        #expect(try lab.volumeNames("nestlab-images") == names)
        // Once nothing uses them, a purge removes them.
        for d in ["other-a", "other-b"] { try c.domain(named: d).undefine() }
        try pool.volume(named: "layer.qcow2").delete()
        let again = try await lab.down(purge: true)
        #expect(again.images.count == 3, "\(again.images)")
        #expect(try lab.volumeNames("nestlab-images").isEmpty)
    }

    @Test("down keeps the lab's pool when it holds a volume nestlab did not name")
    func downKeepsAVolumeItDidNotName() async throws {
        let lab = try KitLab()
        try await lab.up()
        _ = try lab.pool("nestlab-kt").createVolume(xml: Foreign.volumeXML(name: "notes.img"))

        let report = try await lab.down()
        #expect(report.volumes.count == 4)
        #expect(report.pools.isEmpty)
        #expect(report.kept == ["h1: volume notes.img in nestlab-kt (not named by nestlab)"])
        #expect(try lab.volumeNames("nestlab-kt") == ["notes.img"])
        #expect(try lab.connection.listAllDomains().isEmpty)
        #expect(try lab.connection.listAllNetworks().isEmpty)
    }

    @Test("status reads the pinning and hugepages back from libvirt")
    func status() async throws {
        let lab = try KitLab()
        try await lab.up()
        let s = try lab.open()
        let report = try await StatusEngine.run(lab: "kt", sessions: Array(s.sessions.values), rendered: s.rendered)
        #expect(report.machines.map(\.machine) == ["vm-0", "vm-1"])
        #expect(report.missing.isEmpty)
        for row in report.machines {
            let d = try lab.domain(row.machine)
            let pins = try d.vcpuPinInfo()
            #expect(row.vcpuPins == pins.keys.sorted().map { pins[$0] ?? [] })
            #expect(row.emulatorPin == (try d.emulatorPinInfo()))
            #expect(row.hugepageKiB == 2048)
            #expect(row.state == "\(try d.state().state)")
            #expect(row.vcpus == 2)
            #expect(row.memoryMiB == 512)
            #expect(row.drift == nil)
            #expect(row.domain == d.name)
            #expect(row.host == "h1")
        }

        // One machine gone behind nestlab's back: status reports it missing.
        try lab.domain("vm-1").destroy()
        try lab.domain("vm-1").undefine()
        let after = try await StatusEngine.run(lab: "kt", sessions: Array(s.sessions.values), rendered: s.rendered)
        #expect(after.machines.map(\.machine) == ["vm-0"])
        #expect(after.missing == ["vm-1"])
    }
}
