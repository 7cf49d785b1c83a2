import Foundation
import Libvirt
import NestlabCore
import NestlabKit
import Testing

/// Failures midway through `up`: the cause is named with its step, machine and host,
/// and `down` afterwards leaves nothing of the lab.
@Suite("failures midway are reported and cleaned up")
struct FailureTests {
    /// Machines `a` (fits) and `b`, which differs per case.
    static func machines(bDisk: String = "2GiB") -> String {
        [
            KitLab.machineGroup(name: "a", vcpus: 1, memory: "512MiB", disk: "2GiB", address: "10.77.0.10"),
            KitLab.machineGroup(name: "b", vcpus: 1, memory: "512MiB", disk: bDisk, address: "10.77.0.11"),
        ].joined(separator: "\n")
    }

    /// After `down`, libvirt holds what it held before `up` plus the shared image pool
    /// and its cached base images (which `down` keeps on purpose).
    static func expectOnlyCacheLeft(_ lab: KitLab, before: LibvirtSnapshot) throws {
        let after = try LibvirtSnapshot(lab.connection)
        #expect(after.domains == before.domains)
        #expect(after.networks == before.networks)
        var pools = before.pools
        if let images = after.pools["nestlab-images"] { pools["nestlab-images"] = images }
        #expect(after.pools == pools)
        #expect(
            after.volumes.filter { !$0.key.hasPrefix("nestlab-images/") }
                == before.volumes.filter { !$0.key.hasPrefix("nestlab-images/") })
    }

    @Test("a full pool fails one machine's overlay; the other machine is created; down removes both")
    func poolFull() async throws {
        // The test driver's pools hold 100 GiB and count an overlay at its full capacity.
        let lab = try KitLab(machines: Self.machines(bDisk: "200GiB"))
        let before = try LibvirtSnapshot(lab.connection)

        let error = await #expect(throws: UpError.self) { try await lab.up() }
        let text = error.map { "\($0)" } ?? ""
        #expect(
            text.hasPrefix(
                "b: while creating overlay kt-b.qcow2 on h1: libvirt: internal error: Not enough free space in pool for volume 'kt-b.qcow2'"
            ))
        #expect(
            text.hasSuffix(
                "everything up created is tagged with the lab: `nestlab down` removes it, `nestlab up` again converges")
        )
        #expect(!text.contains("a: "))
        guard case .failed(let report, _)? = error else {
            Issue.record("not a failed up: \(String(describing: error))")
            return
        }
        #expect(report.machines.map { "\($0.name) \($0.state)" } == ["a running", "b failed"])
        #expect(!report.ok)

        // What libvirt holds now: machine a complete, nothing of b.
        #expect(try lab.connection.listAllDomains().map(\.name) == ["kt-a"])
        #expect(try lab.volumeNames("nestlab-kt").filter { $0.hasPrefix("kt-b") }.isEmpty)

        let down = try await lab.down()
        #expect(down.domains == ["h1:kt-a"])
        try Self.expectOnlyCacheLeft(lab, before: before)
    }

    @Test("libvirt rejects one domain; its overlay and seed are tagged by name and down removes them")
    func domainRejected() async throws {
        let lab = try KitLab(machines: Self.machines())
        // Someone's domain holds the UUID nestlab derives for machine b (a copy of its XML, say).
        let c = try lab.connection
        _ = try c.defineDomain(xml: Foreign.domainXML(name: "copy-of-b", uuid: Identity.uuid("domain", "kt", "b")))
        let before = try LibvirtSnapshot(c)

        let error = await #expect(throws: UpError.self) { try await lab.up() }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.hasPrefix("b: while defining domain kt-b on h1: libvirt: "))
        #expect(text.contains("copy-of-b"))
        // b got as far as its disk and seed.
        #expect(try lab.volumeNames("nestlab-kt").filter { $0.hasPrefix("kt-b") }.count == 2)
        #expect(try c.listAllDomains().map(\.name).sorted() == ["copy-of-b", "kt-a"])

        let down = try await lab.down()
        #expect(down.domains == ["h1:kt-a"])
        #expect(down.volumes.count == 4)
        try Self.expectOnlyCacheLeft(lab, before: before)
        #expect(try c.domain(named: "copy-of-b").uuid == Identity.uuid("domain", "kt", "b"))
    }

    @Test("a pool with the lab's name that is not the lab's stops up at the pool step; down keeps it")
    func foreignPool() async throws {
        let lab = try KitLab(machines: Self.machines())
        let c = try lab.connection
        _ = try Foreign.pool(
            c, name: "nestlab-kt", uuid: "11111111-2222-4333-8444-555555555555", path: "\(lab.dir.path)/elsewhere"
        )
        .createVolume(xml: Foreign.volumeXML(name: "kt-a.qcow2"))
        let before = try LibvirtSnapshot(c)

        let error = await #expect(throws: ErrorWithContext.self) { try await lab.up() }
        #expect(
            error.map { "\($0)" }
                == "while preparing storage pool nestlab-kt on h1: storage pool 'nestlab-kt' on h1 exists but was not created by nestlab for this lab; rename or remove it, or rename the lab"
        )

        let down = try await lab.down()
        #expect(!down.removedAnything)
        #expect(down.kept == ["h1: storage pool nestlab-kt (not this lab's)"])
        try Self.expectOnlyCacheLeft(lab, before: before)
        #expect(try lab.volumeNames("nestlab-kt") == ["kt-a.qcow2"])
    }

    @Test("a network with the lab network's name but another UUID stops up; down keeps it")
    func foreignNetwork() async throws {
        let lab = try KitLab(machines: Self.machines())
        let c = try lab.connection
        _ = try c.defineNetwork(
            xml: Foreign.networkXML(
                name: "kt-lab", uuid: "21111111-2222-4333-8444-555555555555",
                bridge: "someone0", address: "10.50.0.1"))
        let before = try LibvirtSnapshot(c)

        let error = await #expect(throws: ErrorWithContext.self) { try await lab.up() }
        #expect(
            error.map { "\($0)" }
                == "while creating network kt-lab on h1: network 'kt-lab' on h1 exists but was not created by nestlab for this lab; rename or remove it, or rename the lab"
        )
        #expect(try c.listAllDomains().isEmpty)

        let down = try await lab.down()
        #expect(down.kept == ["h1: network kt-lab (not this lab's)"])
        try Self.expectOnlyCacheLeft(lab, before: before)
        #expect(try c.network(named: "kt-lab").uuid == "21111111-2222-4333-8444-555555555555")
    }
}
