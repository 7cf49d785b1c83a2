import Foundation
import Libvirt
import NestlabCore

/// Every machine at once: its domain is stopped, and its current disk is discarded for a fresh
/// overlay on its golden layer. The golden layers' paths go to `up`, which defines the domains
/// that are gone on them.
struct ReplaceDisks: RebuildStep {
    let name = "replace disks"

    func run(_ context: RebuildContext) async throws {
        let s = context.s
        let g = context.golden
        try await withThrowingTaskGroup(of: Void.self) { group in
            for rm in s.rendered.machines {
                let m = rm.machine
                guard let hs = s.sessions[m.host.name], let layer = g.layer(of: m.name) else { continue }
                group.addTask {
                    context.progress.update(m.name, "restoring \(g.name)")
                    let path = try await Blocking.run { try Self.replace(m, layer: layer, lab: s.lab.name, on: hs) }
                    context.goldenBacking.withLock { $0[m.name] = path }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Stops the machine's domain and puts a fresh overlay on its golden layer; returns the
    /// layer's path.
    static func replace(_ m: Machine, layer: GoldenState.MachineLayer, lab: String, on hs: HostSession) throws
        -> String
    {
        for (d, meta) in try hs.labDomains(lab) where meta.machine == m.name {
            if try d.isActive() { try d.destroy() }
        }
        guard let pool = try hs.connection.storagePoolIfExists(named: Lab.poolName(lab: lab)),
            let golden = try pool.volumeIfExists(named: layer.volume)
        else {
            throw SnapshotError.missingLayer(machine: m.name, volume: layer.volume, host: m.host.name)
        }
        let goldenPath = try golden.path()
        try ErrorWithContext.wrap("replacing the disk of \(m.name) on \(m.host.name)") {
            try pool.volumeIfExists(named: m.overlayVolume)?.delete()
            let top = StorageRenderer.overlay(
                name: m.overlayVolume, capacity: m.disk,
                backing: VolumeRef(pool: Lab.poolName(lab: lab), name: layer.volume, path: goldenPath, identity: ""),
                backingFormat: .qcow2)
            _ = try pool.createVolume(xml: top.render())
        }
        return goldenPath
    }
}
