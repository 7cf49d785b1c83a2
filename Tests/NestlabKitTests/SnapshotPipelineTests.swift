import Foundation
import Libvirt
import NestlabCore
import Synchronization
import Testing

@testable import NestlabKit

/// `snapshot` on the test driver: what it captures, records and starts again; then `rebuild --from`
/// and `snapshot rm` on what it made.
@Suite struct SnapshotPipelineTests {
    /// Records each machine as ready in its domain's metadata, as `up` does once the guest reports
    /// (the test driver has no console to report on).
    static func markReady(_ lab: KitLab) throws {
        let s = try lab.open()
        for rm in s.rendered.machines {
            let meta = LabMetadata.ready(rm, lab: s.lab.name, instance: rm.seed.instanceID)
            try lab.domain(rm.machine.name).setMetadata(
                meta.unprefixed().render(), key: NestlabXMLNS.key, uri: NestlabXMLNS.uri, flags: [.live, .config])
        }
    }

    /// The steps, in order, and the same as docs/architecture.md lists for `snapshot`.
    @Test func thePipelineListsItsStepsInOrderAsTheDocsDo() throws {
        let names = SnapshotEngine.pipeline().map(\.name)
        #expect(
            names == [
                "check machines are ready", "shut down machines", "capture golden layers",
                "record the golden state", "start again",
            ])
        let listed = try PipelineSteps.listedInDocs(after: "snapshot  Engine/Snapshot/")
        #expect(listed.map(\.0) == names)
        #expect(listed.map(\.1) == SnapshotEngine.pipeline().map { "\(type(of: $0))" })
    }

    @Test func aMachineThatHasNotReportedReadyIsRefusedBeforeAnythingChanges() async throws {
        let lab = try KitLab(name: "kn")
        try await lab.up()
        let before = try LibvirtSnapshot(lab.connection)
        let (progress, steps) = PipelineSteps.recording()
        let error = await #expect(throws: UsageError.self) {
            try await SnapshotEngine.snapshot(
                try lab.open(), name: "g1", progress: progress, options: KitLab.upOptions())
        }
        #expect(steps() == ["step 1/5: check machines are ready"])
        #expect(
            error?.description.hasPrefix("machine vm-0 is not up and ready as the topology says (") == true,
            "\(String(describing: error))")
        #expect(try LibvirtSnapshot(lab.connection) == before)
        #expect(GoldenState.list(lab.store.lab("kn")).isEmpty)
    }

    @Test func aSnapshotCapturesEveryMachineRecordsItAndStartsThemAgain() async throws {
        let lab = try KitLab(name: "ks")
        try await lab.up()
        try Self.markReady(lab)
        // The test driver only registers the overlays; on a local host snapshot renames their files.
        for m in ["vm-0", "vm-1"] {
            try run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "\(lab.labPoolDir)/ks-\(m).qcow2", "64M"])
        }
        let (progress, steps) = PipelineSteps.recording()
        let g = try await SnapshotEngine.snapshot(
            try lab.open(), name: "g1", progress: progress, options: KitLab.upOptions(), shutdownTimeout: 10)
        #expect(g.name == "g1" && g.lab == "ks")
        #expect(g.machines.map(\.machine) == ["vm-0", "vm-1"])
        #expect(g.machines.map(\.volume) == ["ks-vm-0-golden-g1.qcow2", "ks-vm-1-golden-g1.qcow2"])
        let s = try lab.open()
        #expect(g.topologyDigest == s.topology.digest)
        #expect(try GoldenState.load(s.state, "g1").machines.map(\.volume) == g.machines.map(\.volume))
        // Each overlay is now a read-only golden layer, with a fresh overlay on top of it.
        let volumes = try lab.volumeNames("nestlab-ks")
        for m in ["vm-0", "vm-1"] {
            #expect(volumes.contains("ks-\(m)-golden-g1.qcow2"), "\(volumes)")
            #expect(volumes.contains("ks-\(m).qcow2"), "\(volumes)")
            let golden = "\(lab.labPoolDir)/ks-\(m)-golden-g1.qcow2"
            var st = stat()
            #expect(stat(golden, &st) == 0 && st.st_mode & 0o777 == 0o444)
            let overlay = try lab.pool("nestlab-ks").volume(named: "ks-\(m).qcow2").xmlDesc()
            #expect(overlay.contains("<path>\(golden)</path>"), "\(overlay)")
            #expect(try lab.domain(m).isActive(), "started again")
        }
        // The lab log names each step, then up's own steps inside "start again".
        #expect(
            steps() == [
                "step 1/5: check machines are ready", "step 2/5: shut down machines",
                "step 3/5: capture golden layers", "step 4/5: record the golden state", "step 5/5: start again",
                "step 1/5: refuse foreign domains", "step 2/5: write access files", "step 3/5: prepare hosts",
                "step 4/5: serve the artifact mirror", "step 5/5: converge machines",
            ])

        // rebuild --from: fresh overlays on the layers, the machines running again.
        let report = try await RebuildEngine.run(
            try lab.open(), from: .golden(g), options: KitLab.upOptions(), progress: KitLab.quiet)
        #expect(report.ok)
        #expect(try ["vm-0", "vm-1"].allSatisfy { try lab.domain($0).isActive() })

        // snapshot rm: refused while the machines' disks are based on the layers.
        let error = #expect(throws: ErrorWithContext.self) {
            try SnapshotEngine.remove(s.state, golden: g, sessions: s.sessions)
        }
        #expect(
            "\(error.map { "\($0)" } ?? "")".contains("is the base of ks-vm-0.qcow2"), "\(String(describing: error))")
    }
}
