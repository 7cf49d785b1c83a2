import Foundation
import Libvirt
import NestlabCore
import Testing

@testable import NestlabKit

/// Issue 22, part 7: a seed carries the node's secrets, so it is in the pool only from before a
/// boot until nestlab has seen the guest ready; before the domain boots again it comes back.
@Suite("seeds leave the pool once the guest is ready")
struct SeedLifecycleTests {
    /// The sources of the domain's disks, as libvirt holds its persistent definition.
    static func diskVolumes(_ lab: KitLab, _ machine: String) throws -> [String] {
        let xml = try lab.domain(machine).xmlDesc(flags: .inactive)
        return try XPath.attributes(xml, "/domain/devices/disk/source").compactMap { $0["volume"] }
    }

    /// What `up` does when a guest's console says it is ready: the real settle step of `up`.
    static func reportReady(_ lab: KitLab, _ machine: String) async throws -> RenderedMachine {
        let s = try lab.open()
        let context = UpContext(
            session: s, options: KitLab.upOptions(), progress: KitLab.quiet, plan: try Planner.plan(s))
        let rm = try #require(s.rendered.machine(named: machine))
        await GuestOutcome(context: context).settle(
            machine, context.watcher(for: rm), .ready(instance: rm.seed.instanceID))
        return rm
    }

    @Test("ready: the seed leaves the definition and the pool; a stopped machine gets both back before it boots")
    func seedDroppedWhenReadyAndRestoredBeforeABoot() async throws {
        let lab = try KitLab()
        try await lab.up()
        let s = try lab.open()
        let rm0 = try #require(s.rendered.machine(named: "vm-0"))
        let rm1 = try #require(s.rendered.machine(named: "vm-1"))
        #expect(try Self.diskVolumes(lab, "vm-0") == ["kt-vm-0.qcow2", rm0.seedVolume])
        let firstDefinition = try lab.domain("vm-0").xmlDesc(flags: .inactive)
        let seedFile = "\(lab.labPoolDir)/\(rm0.seedVolume)"
        let mode = try FileManager.default.attributesOfItem(atPath: seedFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try Planner.plan(s).machines.allSatisfy(\.seedInPool))

        _ = try await Self.reportReady(lab, "vm-0")

        // vm-0: ready recorded, seed out of its definition and out of the pool; vm-1 untouched.
        #expect(try Self.diskVolumes(lab, "vm-0") == ["kt-vm-0.qcow2"])
        #expect(try Self.diskVolumes(lab, "vm-1") == ["kt-vm-1.qcow2", rm1.seedVolume])
        #expect(try lab.volumeNames("nestlab-kt") == ["kt-vm-0.qcow2", "kt-vm-1.qcow2", rm1.seedVolume].sorted())
        #expect(try lab.domain("vm-0").isActive())
        let plan = try lab.plan()
        let p0 = try #require(plan.machines.first { $0.rendered.machine.name == "vm-0" })
        #expect(p0.action == .unchanged(running: true) && !p0.seedInPool)
        #expect(p0.readyInstance == rm0.seed.instanceID)
        // The spec is what it was: nothing drifted.
        #expect(plan.machines.allSatisfy { $0.action == .unchanged(running: true) })

        // A stopped machine: up writes its seed again (same bytes, 0600) and defines it with the disk.
        try lab.domain("vm-0").destroy()
        let up = try await lab.up()
        #expect(up.machines.first { $0.name == "vm-0" }?.action == "start")
        #expect(try lab.domain("vm-0").isActive())
        #expect(try Self.diskVolumes(lab, "vm-0") == ["kt-vm-0.qcow2", rm0.seedVolume])
        let again = try Data(contentsOf: URL(fileURLWithPath: seedFile))
        let iso = try NoCloudSeed(
            userData: rm0.seed.userData, metaData: rm0.seed.metaData, networkConfig: rm0.seed.networkConfig
        ).image()
        #expect(again == iso.bytes)
        #expect((try FileManager.default.attributesOfItem(atPath: seedFile)[.posixPermissions] as? Int) == 0o600)
        // The definition is exactly the one `up` first made, seed disk included.
        #expect(try lab.domain("vm-0").xmlDesc(flags: .inactive) == firstDefinition)
    }

    @Test("a machine seen ready whose seed is still in the pool loses it at the next up, with or without waiting")
    func aLeftoverSeedOfAReadyMachineIsDropped() async throws {
        let lab = try KitLab()
        try await lab.up()
        let s = try lab.open()
        let rm = try #require(s.rendered.machine(named: "vm-1"))
        // Readiness recorded the way an interrupted run (or an older nestlab) left it: in the
        // metadata only, the seed still there.
        let meta = LabMetadata.ready(rm, lab: "kt", instance: rm.seed.instanceID)
        try lab.domain("vm-1").setMetadata(
            meta.unprefixed().render(), key: NestlabXMLNS.key, uri: NestlabXMLNS.uri, flags: [.live, .config])
        #expect(try lab.plan().machines.first { $0.rendered.machine.name == "vm-1" }?.seedInPool == true)

        let up = try await lab.up()
        #expect(up.machines.map { "\($0.name) \($0.action)" }.sorted() == ["vm-0 unchanged", "vm-1 unchanged"])
        #expect(try Self.diskVolumes(lab, "vm-1") == ["kt-vm-1.qcow2"])
        #expect(try !lab.volumeNames("nestlab-kt").contains(rm.seedVolume))
        // vm-0 was never seen ready: its seed stays until it is.
        #expect(try lab.volumeNames("nestlab-kt").contains { $0.hasPrefix("kt-vm-0-seed-") })
        let after = try lab.plan()
        #expect(after.machines.first { $0.rendered.machine.name == "vm-1" }?.readyInstance == rm.seed.instanceID)
    }

    @Test("the rendered definition without its seed differs from the full one by exactly the seed disk")
    func withoutSeedRemovesOnlyTheSeedDisk() throws {
        let lab = try KitLab()
        let s = try lab.open()
        let rm = try #require(s.rendered.machine(named: "vm-0"))
        let meta = DomainRenderer.metadata(
            .init(machine: rm.machine, lab: "kt", base: rm.base, seedVolume: rm.seedVolume, spec: rm.spec))
        let without = DomainRenderer.withoutSeed(rm.domain, lab: "kt", seedVolume: rm.seedVolume, metadata: meta)
        let seedDisk = DomainRenderer.seedDisk(lab: "kt", seedVolume: rm.seedVolume)
        func children(_ d: XMLElement, _ name: String) -> [XMLElement] {
            d.children.compactMap { if case .element(let e) = $0, e.name == name { return e } else { return nil } }
        }
        let fullDevices = try #require(children(rm.domain, "devices").first)
        let devices = try #require(children(without, "devices").first)
        #expect(fullDevices.children.contains(.element(seedDisk)))
        #expect(devices.children == fullDevices.children.filter { $0 != .element(seedDisk) })
        #expect(devices.children.count == fullDevices.children.count - 1)
        // Everything else is the same, but the metadata given.
        let others = { (d: XMLElement) in
            d.children.filter { c in
                if case .element(let e) = c { return e.name != "devices" && e.name != "metadata" } else { return true }
            }
        }
        #expect(others(without) == others(rm.domain))
        #expect(children(without, "metadata").first?.children == [.element(meta)])
    }
}
