import Foundation
import Libvirt
import NestlabCore
import Synchronization
import Testing

@testable import NestlabKit

/// `rebuild` on the test driver: its two pipelines, from a golden state and fresh, step by step.
@Suite struct RebuildPipelineTests {
    /// A lab of two machines, ready, with golden state g1 captured (overlay files made for the
    /// test driver, which only registers volumes).
    static func labWithGoldenState(_ name: String) async throws -> (KitLab, GoldenState) {
        let lab = try KitLab(name: name)
        try await lab.up()
        try SnapshotPipelineTests.markReady(lab)
        for m in ["vm-0", "vm-1"] {
            try run(
                "/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "\(lab.labPoolDir)/\(name)-\(m).qcow2", "64M"])
        }
        let g = try await SnapshotEngine.snapshot(
            try lab.open(), name: "g1", progress: KitLab.quiet, options: KitLab.upOptions(), shutdownTimeout: 10)
        return (lab, g)
    }

    /// Both pipelines, in order, and the same as docs/architecture.md lists for `rebuild`.
    @Test func thePipelinesListTheirStepsInOrderAsTheDocsDo() throws {
        let lab = try KitLab(name: "kd")
        let golden = GoldenState(
            name: "g", lab: lab.name, createdAt: Date(), topologyDigest: "", lockDigest: nil, machines: [])
        let fromGolden = RebuildEngine.pipeline(.golden(golden))
        let fresh = RebuildEngine.pipeline(.fresh)
        #expect(fromGolden.map(\.name) == ["check the golden state", "replace disks", "bring up"])
        #expect(fresh.map(\.name) == ["tear down", "bring up"])
        let docsGolden = try PipelineSteps.listedInDocs(after: "rebuild  Engine/Rebuild/")
        #expect(docsGolden.map(\.0) == fromGolden.map(\.name))
        #expect(docsGolden.map(\.1) == fromGolden.map { "\(type(of: $0))" })
        let docsFresh = try PipelineSteps.listedInDocs(after: "rebuild --fresh")
        #expect(docsFresh.map(\.0) == fresh.map(\.name))
        #expect(docsFresh.map(\.1) == fresh.map { "\(type(of: $0))" })
    }

    /// A golden layer gone from the pool is found before any machine is stopped or any disk
    /// replaced: libvirt holds exactly what it held.
    @Test func aMissingLayerIsRefusedBeforeAnyMachineIsTouched() async throws {
        let (lab, g) = try await Self.labWithGoldenState("kr")
        // The second machine's layer disappears (the first one's stays).
        try lab.pool("nestlab-kr").volume(named: "kr-vm-1-golden-g1.qcow2").delete()
        let before = try LibvirtSnapshot(lab.connection)
        #expect(before.domains.values.allSatisfy { $0.active })
        let (progress, steps) = PipelineSteps.recording()
        let error = await #expect(throws: SnapshotError.self) {
            try await RebuildEngine.run(
                try lab.open(), from: .golden(g), options: KitLab.upOptions(), progress: progress)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("kr-vm-1-golden-g1.qcow2"), "\(String(describing: error))")
        #expect(steps() == ["step 1/3: check the golden state"])
        #expect(try LibvirtSnapshot(lab.connection) == before)
    }

    /// From a golden state: every machine gets a fresh overlay on its layer, then up's steps run.
    @Test func fromAGoldenStateEveryDiskIsReplacedThenUpRuns() async throws {
        let (lab, g) = try await Self.labWithGoldenState("kg")
        let pool = try lab.pool("nestlab-kg")
        let (progress, steps) = PipelineSteps.recording()
        let report = try await RebuildEngine.run(
            try lab.open(), from: .golden(g), options: KitLab.upOptions(), progress: progress)
        #expect(report.ok)
        #expect(
            steps() == [
                "step 1/3: check the golden state", "step 2/3: replace disks", "step 3/3: bring up",
                "step 1/5: refuse foreign domains", "step 2/5: write access files", "step 3/5: prepare hosts",
                "step 4/5: serve the artifact mirror", "step 5/5: converge machines",
            ])
        for m in ["vm-0", "vm-1"] {
            let overlay = try pool.volume(named: "kg-\(m).qcow2")
            #expect(try overlay.xmlDesc().contains("<path>\(lab.labPoolDir)/kg-\(m)-golden-g1.qcow2</path>"))
            #expect(try lab.domain(m).isActive())
        }
    }

    /// Fresh, for one machine: down's steps remove it (the pool, the network and the other
    /// machine stay), then up's steps make it again.
    @Test func aFreshRebuildOfOneMachineTearsItDownThenBringsItUp() async throws {
        let lab = try KitLab(name: "kf")
        try await lab.up()
        let before = try LibvirtSnapshot(lab.connection)
        let (progress, steps) = PipelineSteps.recording()
        let report = try await RebuildEngine.run(
            try lab.open(), from: .fresh, options: KitLab.upOptions(only: ["vm-1"]), progress: progress)
        #expect(report.ok)
        #expect(
            steps() == [
                "step 1/2: tear down", "step 2/2: bring up", "step 1/5: refuse foreign domains",
                "step 2/5: write access files", "step 3/5: prepare hosts", "step 4/5: serve the artifact mirror",
                "step 5/5: converge machines",
            ])
        let after = try LibvirtSnapshot(lab.connection)
        #expect(after.domains["kf-vm-0"] == before.domains["kf-vm-0"], "the other machine is untouched")
        let vm1 = try #require(after.domains["kf-vm-1"])
        #expect(vm1.active && vm1.id != before.domains["kf-vm-1"]?.id, "vm-1 was destroyed and started again")
        #expect(after.networks == before.networks && after.pools == before.pools)
        #expect(report.machines.first { $0.name == "vm-1" }?.action == "create")
    }
}
