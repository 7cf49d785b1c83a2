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
            let meta = LabMetadata.withReady(
                DomainRenderer.metadata(
                    .init(
                        machine: rm.machine, lab: s.lab.name, base: rm.base, seedVolume: rm.seedVolume,
                        spec: rm.spec)), instance: rm.seed.instanceID)
            try lab.domain(rm.machine.name).setMetadata(
                meta.unprefixed().render(), key: NestlabXMLNS.key, uri: NestlabXMLNS.uri, flags: [.live, .config])
        }
    }

    @Test func aMachineThatHasNotReportedReadyIsRefusedBeforeAnythingChanges() async throws {
        let lab = try KitLab(name: "kn")
        try await lab.up()
        let before = try LibvirtSnapshot(lab.connection)
        let error = await #expect(throws: UsageError.self) {
            try await SnapshotEngine.snapshot(
                try lab.open(), name: "g1", progress: KitLab.quiet, options: KitLab.upOptions())
        }
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
        let lines = Mutex<[String]>([])
        let progress = ProgressView(mode: .quiet) { line in lines.withLock { $0.append(line) } }
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

        // rebuild --from: fresh overlays on the layers, the machines running again.
        let report = try await SnapshotEngine.restore(
            try lab.open(), golden: g, options: KitLab.upOptions(), progress: KitLab.quiet)
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
