import Foundation
import Libvirt
import NestlabCore
import NestlabKit
import Testing

@Suite("rebuild one machine; drift")
struct RebuildDriftTests {
    @Test("rebuild --machine recreates only that machine: the other keeps its domain, run and overlay")
    func rebuildOneMachine() async throws {
        let lab = try KitLab()
        try await lab.up()
        let c = try lab.connection
        let before = try LibvirtSnapshot(c)
        let oldID = try #require(try lab.domain("vm-1").id)

        // rebuild = down of the machine, then up of the machine (what `nestlab rebuild --machine vm-1` runs).
        let down = try await lab.down(only: ["vm-1"])
        #expect(down.domains == ["h1:kt-vm-1"])
        #expect(down.volumes.count == 2)
        #expect(down.networks.isEmpty && down.pools.isEmpty)
        // Its overlay and seed are gone; the base image, vm-0 and the network stay.
        let between = try LibvirtSnapshot(c)
        #expect(between.domains.keys.sorted() == ["kt-vm-0"])
        #expect(between.domains["kt-vm-0"] == before.domains["kt-vm-0"])
        #expect(try lab.volumeNames("nestlab-kt").filter { $0.hasPrefix("kt-vm-1") }.isEmpty)
        #expect(between.networks == before.networks)
        #expect(
            between.volumes.filter { $0.key.hasPrefix("nestlab-images/") }
                == before.volumes.filter { $0.key.hasPrefix("nestlab-images/") })

        let up = try await lab.up(only: ["vm-1"])
        #expect(up.machines.map { "\($0.name) \($0.action)" } == ["vm-1 create"])
        #expect(up.imagesPlaced.isEmpty)  // the base image is reused, never placed again
        #expect(up.networksCreated.isEmpty)

        let after = try LibvirtSnapshot(c)
        // vm-0: same UUID, same run (domain id), same XML, same overlay.
        #expect(after.domains["kt-vm-0"] == before.domains["kt-vm-0"])
        #expect(after.volumes["nestlab-kt/kt-vm-0.qcow2"] == before.volumes["nestlab-kt/kt-vm-0.qcow2"])
        // vm-1: the same derived UUID and definition, a new run, a new overlay on the same base.
        let vm1 = try #require(after.domains["kt-vm-1"])
        #expect(vm1.uuid == before.domains["kt-vm-1"]?.uuid)
        #expect(vm1.xml == before.domains["kt-vm-1"]?.xml)
        #expect(vm1.active)
        #expect(vm1.id != oldID)
        #expect(after.volumes["nestlab-kt/kt-vm-1.qcow2"] != nil)
        #expect(after.volumes.keys.sorted() == before.volumes.keys.sorted())
        #expect(try lab.plan().isNoop)
    }

    static func resized(_ lab: KitLab, vcpus: Int, memory: String) throws {
        try lab.writeTopology(
            machines: KitLab.machineGroup(
                name: "vm", count: 2, vcpus: vcpus, memory: memory, disk: "2GiB",
                address: "10.77.0.10"))
    }

    @Test("drift: plan lists what differs, up refuses without --recreate and changes nothing, --recreate applies it")
    func drift() async throws {
        let lab = try KitLab()
        try await lab.up()
        let c = try lab.connection
        let before = try LibvirtSnapshot(c)

        try Self.resized(lab, vcpus: 3, memory: "1GiB")
        let plan = try lab.plan()
        #expect(!plan.isNoop)
        let expected: [String: [String]] = [
            "vm-0": ["vcpus 2 → 3", "memory 512MiB → 1GiB", "vcpupin 1 2 → 1 2 3"],
            "vm-1": ["vcpus 2 → 3", "memory 512MiB → 1GiB", "vcpupin 3 4 → 4 5 6"],
        ]
        for mp in plan.machines {
            #expect(mp.action == .drift(expected[mp.rendered.machine.name] ?? []), "\(mp.rendered.machine.name)")
        }

        // status (given the topology) shows the same drift.
        let s = try lab.open()
        let status = try await StatusEngine.run(lab: "kt", sessions: Array(s.sessions.values), rendered: s.rendered)
        #expect(status.machines.map { $0.drift ?? [] } == [expected["vm-0"]!, expected["vm-1"]!])

        // up without --recreate: fails with the drift, and libvirt is untouched.
        let error = await #expect(throws: UpError.self) { try await lab.up() }
        #expect(
            error.map { "\($0)" } == """
                vm-0 differs from the topology: vcpus 2 → 3, memory 512MiB → 1GiB, vcpupin 1 2 → 1 2 3; run `nestlab up --recreate` to recreate it
                vm-1 differs from the topology: vcpus 2 → 3, memory 512MiB → 1GiB, vcpupin 3 4 → 4 5 6; run `nestlab up --recreate` to recreate it
                everything up created is tagged with the lab: `nestlab down` removes it, `nestlab up` again converges
                """)
        #expect(try LibvirtSnapshot(c) == before)

        // up --recreate applies it.
        let report = try await lab.up(recreate: true)
        #expect(report.ok)
        #expect(report.changed)
        #expect(report.machines.map(\.action) == ["recreate", "recreate"])
        for (m, pins) in [("vm-0", [0: [1], 1: [2], 2: [3]]), ("vm-1", [0: [4], 1: [5], 2: [6]])] {
            let d = try lab.domain(m)
            let xml = try d.xmlDesc(flags: .inactive)
            #expect(try XPath.text(xml, "/domain/vcpu") == "3")
            #expect(try XPath.text(xml, "/domain/memory") == "1048576")
            #expect(try d.vcpuPinInfo() == pins)
            #expect(d.uuid == before.domains["kt-\(m)"]?.uuid)
            #expect(try d.isActive())
        }
        #expect(try lab.plan().isNoop)
        // One overlay and one seed per machine still: the old seeds were removed.
        #expect(try lab.volumeNames("nestlab-kt").count == 4)
    }
}
