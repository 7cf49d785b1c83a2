import Foundation
import NestlabCore
import Testing

/// Issue 21: faults from outside nestlab.
extension SystemTests {
    /// The image pool's filesystem is full while `up` places the base image: `up` fails (exit 1)
    /// with the host, the volume and the system's reason; no volume and no partial file is left
    /// under any name in the pool; `down` then removes what the lab made; once there is room,
    /// the same `up` gets past placement. The pool's folder is a 48 MiB tmpfs for the test (the
    /// test image's base is ~300 MiB), mounted over the real one and unmounted after.
    @Test(.timeLimit(.minutes(15)))
    func aFullPoolFailsPlacementCleanly() throws {
        try System.requireHost()
        let lab = "sysfull"
        let scratch = try System.ScratchLab("ci.yaml", lab: lab, subnet: "10.88.0")
        defer { scratch.cleanUp() }
        let (state, file) = (scratch.state, scratch.file)
        let images = "\(LabHost.defaultStorageDir)/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        let mount = try System.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0711", "nestlab-systest-full", images])
        try #require(mount.status == 0, "\(mount.all)")
        var mounted = true
        func unmount() {
            guard mounted else { return }
            _ = try? System.run(["umount", images])
            _ = try? System.virsh(["pool-refresh", Lab.imagePoolName])
            mounted = false
        }
        defer { unmount() }
        _ = try System.virsh(["pool-refresh", Lab.imagePoolName])

        let up = try System.nestlab(["up", file.path, "--plain"], state: state)
        #expect(up.status == 1, "\(up.all)")
        #expect(up.all.contains("No space left on device"), "the system's reason: \(up.all)")
        #expect(
            up.all.contains("placing volume base-") && up.all.contains("host 'local'"),
            "the volume and the host: \(up.all)")
        #expect(!up.all.contains("Fatal error") && !up.all.contains("Swift runtime failure"), "\(up.all)")
        // Nothing under any name: no volume in libvirt's view, no file in the folder.
        _ = try System.virsh(["pool-refresh", Lab.imagePoolName])
        let vols = try System.virsh(["vol-list", Lab.imagePoolName])
        #expect(!vols.stdout.contains("base-"), "a base volume after a failed placement: \(vols.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: images)
        #expect(
            !files.contains { $0.hasPrefix("base-") || $0.hasPrefix(".base-") },
            "files left in the pool's folder: \(files)")
        let domains = try System.virsh(["list", "--all", "--name"])
        #expect(!domains.stdout.contains("\(lab)-"), "no domain without its disk: \(domains.stdout)")

        let down = try System.nestlab(["down", file.path], state: state)
        #expect(down.status == 0, "\(down.all)")
        try expectNothingLeft(lab)

        // With room again, the same lab gets past placement (its boot is the other tests' business).
        unmount()
        let again = try System.nestlab(["up", file.path, "--plain", "--no-wait"], state: state)
        #expect(again.status == 0, "\(again.all)")
        #expect(again.all.contains("base-"), "the base image placed this time: \(again.all)")
    }
}
