import Foundation
import Libvirt
import NestlabCore
import Testing

@testable import NestlabKit

/// Issue 17: a volume is never trusted by its name. Base images, kernels, initrds and seeds
/// that have the right name but not the right bytes are found and replaced, on the test driver
/// with real files in the pool folder.
@Suite("volumes are checked against what nestlab meant to place")
struct VolumePlacementTests {
    @Test("the format, virtual size and size libvirt would report are read from the bytes")
    func probeReadsFormats() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let qcow = dir.appendingPathComponent("d.qcow2").path
        _ = try run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", qcow, "3G"])
        let q = try VolumeContent(file: qcow)
        #expect(q.format == "qcow2")
        #expect(q.virtualSize == 3 << 30)
        #expect(q.bytes == UInt64(try FileManager.default.attributesOfItem(atPath: qcow)[.size] as! Int))

        let seed = try NoCloudSeed(userData: "#cloud-config\n", metaData: "instance-id: x\n", networkConfig: nil)
            .image()
        let iso = VolumeContent(data: seed.bytes)
        #expect(iso.format == "iso" && iso.virtualSize == UInt64(seed.bytes.count))

        let raw = VolumeContent(data: Data(repeating: 7, count: 100))
        #expect(raw.format == "raw" && raw.virtualSize == 100 && raw.bytes == 100)
    }

    /// Each planted volume has the right name and is wrong in one way: format, size, bytes.
    @Test(
        "up replaces a base image, kernel, initrd or seed that has its name but not its content, and says so",
        arguments: ["format", "size", "head", "tail"])
    func plantedVolumesAreReplaced(defect: String) async throws {
        let lab = try KitLab()
        // A first up places everything; down keeps the base images.
        _ = try await lab.up()
        _ = try await lab.down()
        let images = try lab.volumeNames("nestlab-images")
        let base = try #require(images.first { $0.hasPrefix("base-") })
        let kernel = try #require(images.first { $0.hasPrefix("kernel-") })
        let initrd = try #require(images.first { $0.hasPrefix("initrd-") })

        // Plant: overwrite the files under their names (what libvirt holds is rescanned by up).
        let right = [base: lab.baseImage, kernel: lab.kernel, initrd: lab.initrd]
        for (name, source) in right {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
            switch defect {
            case "format": bytes = Data(count: bytes.count)  // zeros: raw, not qcow2 (for the base)
            case "size": bytes.append(0)
            case "head": bytes[0] ^= 0xFF
            default: bytes[bytes.count - 1] ^= 0xFF
            }
            try bytes.write(to: URL(fileURLWithPath: "\(lab.imagesDir)/\(name)"))
        }
        // The test driver does not rescan its folder: register the base as raw for the format case.
        if defect == "format" {
            let pool = try lab.pool("nestlab-images")
            try pool.volume(named: base).delete()
            try Data(count: 1000).write(to: URL(fileURLWithPath: "\(lab.imagesDir)/\(base)"))
            _ = try pool.createVolume(xml: StorageRenderer.raw(name: base, bytes: 1000).render())
        }

        let report = try await lab.up()
        #expect(report.ok)
        let replaced = report.volumesReplaced.map { String($0.split(separator: ":")[1]) }.sorted()
        #expect(replaced == [base, initrd, kernel].sorted(), "\(report.volumesReplaced)")
        // What is there now is the right bytes, byte for byte.
        for (name, source) in right {
            let placed = try Data(contentsOf: URL(fileURLWithPath: "\(lab.imagesDir)/\(name)"))
            #expect(placed == (try Data(contentsOf: URL(fileURLWithPath: source))), "\(name) after up")
        }
        // A volume that holds the right content is left alone: a third up replaces nothing.
        _ = try await lab.down()
        let again = try await lab.up()
        #expect(
            again.volumesReplaced.isEmpty && again.imagesPlaced.isEmpty,
            "\(again.volumesReplaced) \(again.imagesPlaced)")
    }

    @Test("a seed volume with the seed's name but other bytes is replaced")
    func plantedSeedIsReplaced() async throws {
        let lab = try KitLab(
            machines: KitLab.machineGroup(
                name: "vm", count: 1, vcpus: 2, memory: "512MiB", disk: "2GiB",
                address: "10.77.0.10"))
        let s = try lab.open()
        let seedName = try #require(s.rendered.machines.first?.seedVolume)
        // Planted before the machine exists: a pool of the lab's, a volume under the seed's name.
        let pool = try lab.connection.defineStoragePool(
            xml: StorageRenderer.pool(
                name: "nestlab-kt", path: lab.labPoolDir,
                uuid: Identity.uuid("pool", "kt")
            ).render())
        try pool.create()
        try Data("not a seed".utf8).write(to: URL(fileURLWithPath: "\(lab.labPoolDir)/\(seedName)"))
        _ = try pool.createVolume(xml: StorageRenderer.raw(name: seedName, bytes: 10).render())

        let report = try await lab.up()
        #expect(
            report.volumesReplaced.count == 1 && report.volumesReplaced[0].hasPrefix("h1:\(seedName): "),
            "\(report.volumesReplaced)")
        let placed = try Data(contentsOf: URL(fileURLWithPath: "\(lab.labPoolDir)/\(seedName)"))
        #expect(placed.count > 32_774 && placed[32769..<32774] == Data("CD001".utf8), "the seed is an ISO again")
        let mode =
            try FileManager.default.attributesOfItem(atPath: "\(lab.labPoolDir)/\(seedName)")[.posixPermissions] as? Int
        #expect(mode == 0o600, "seeds carry secrets")
    }

    @Test("an overlay of that name that is not a qcow2 on the base is made anew")
    func wrongOverlayIsRecreated() async throws {
        let lab = try KitLab()
        _ = try await lab.up()
        let pool = try lab.pool("nestlab-kt")
        let session = try HostSession(host: try lab.open().lab.machines[0].host, connections: lab.connections)
        let overlay = try pool.volume(named: "kt-vm-0.qcow2")
        let facts = try VolumeDescription(xml: try overlay.xmlDesc(), of: overlay.name)
        let backing = try #require(facts.backingStore?.path)
        // Right: kept.
        let xml = try #require(try lab.open().rendered.machines.first?.overlay)
        #expect(
            try session.ensureOverlay(
                pool: pool, xml: xml, name: "kt-vm-0.qcow2", backingPath: backing, backingFormat: "qcow2") == false)
        // A raw volume under the overlay's name: replaced by a qcow2 on the base.
        try overlay.delete()
        _ = try pool.createVolume(xml: StorageRenderer.raw(name: "kt-vm-0.qcow2", bytes: 10).render())
        #expect(
            try session.ensureOverlay(
                pool: pool, xml: xml, name: "kt-vm-0.qcow2", backingPath: backing, backingFormat: "qcow2"))
        let now = try VolumeDescription(xml: try pool.volume(named: "kt-vm-0.qcow2").xmlDesc(), of: "kt-vm-0.qcow2")
        #expect(now.format == "qcow2" && now.backingStore?.path == backing)
    }
}

/// Issue 17: preflight checks every host bridge a host's machines use.
@Suite("preflight checks host bridges")
struct BridgePreflightTests {
    @Test("a missing bridge and an interface that is not a bridge are errors that name the host")
    func bridgeFindings() throws {
        // test:///default has one interface, eth1, an ethernet NIC.
        let host = LabHost(name: "h9", libvirt: "test:///default")
        let session = try HostSession(host: host)
        let missing = Preflight.bridgeFindings(session, bridges: ["br-nope"])
        #expect(missing.map(\.level) == [.error])
        #expect(missing.first?.message == "bridge br-nope does not exist on host 'h9'")
        let ethernet = Preflight.bridgeFindings(session, bridges: ["eth1"])
        #expect(ethernet.map(\.level) == [.error])
        #expect(ethernet.first?.message == "eth1 on host 'h9' is a ethernet interface, not a bridge")
        #expect(Preflight.bridgeFindings(session, bridges: []).isEmpty)
    }
}
