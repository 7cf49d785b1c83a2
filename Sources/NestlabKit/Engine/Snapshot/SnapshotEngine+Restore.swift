import Foundation
import Libvirt
import NestlabCore

/// `rebuild --from`: the lab back to a golden state.
extension SnapshotEngine {
    /// Discards each machine's current disk, puts a fresh overlay on its golden layer, boots,
    /// and waits for readiness like `up` (cloud-init does not run first boot again).
    public static func restore(_ s: LabSession, golden g: GoldenState, options: UpOptions, progress: ProgressView)
        async throws -> UpReport
    {
        if let why = g.mismatch(with: s) {
            throw UsageError(
                "golden state '\(g.name)' does not match the topology: \(why); use `nestlab rebuild --fresh`, or take a new snapshot"
            )
        }
        let lab = s.lab.name
        var backing: [String: String] = [:]
        for rm in s.rendered.machines {
            guard let hs = s.sessions[rm.machine.host.name],
                let layer = g.machines.first(where: { $0.machine == rm.machine.name })
            else { continue }
            let m = rm.machine
            progress.update(m.name, "restoring \(g.name)")
            backing[m.name] = try await Blocking.run {
                for (d, meta) in try hs.labDomains(lab) where meta.machine == m.name {
                    if try d.isActive() { try d.destroy() }
                }
                guard let pool = try hs.connection.storagePoolIfExists(named: Lab.poolName(lab: lab)),
                    let golden = try pool.volumeIfExists(named: layer.volume)
                else {
                    throw SnapshotError.missingLayer(machine: m.name, volume: layer.volume, host: m.host.name)
                }
                // The current disk is discarded for a fresh overlay on the golden layer.
                let goldenPath = try golden.path()
                try ErrorWithContext.wrap("replacing the disk of \(m.name) on \(m.host.name)") {
                    try pool.volumeIfExists(named: m.overlayVolume)?.delete()
                    let top = StorageRenderer.overlay(
                        name: m.overlayVolume, capacity: m.disk,
                        backing: VolumeRef(
                            pool: Lab.poolName(lab: lab), name: layer.volume,
                            path: goldenPath, identity: ""), backingFormat: .qcow2)
                    _ = try pool.createVolume(xml: top.render())
                }
                return goldenPath
            }
        }
        var opts = options
        opts.goldenBacking = backing
        // Domains that down removed are defined again; stopped ones are started; up waits for the ready marker.
        let engine = UpEngine(session: s, options: opts, progress: progress)
        return try await engine.run()
    }
}
