import Foundation
import Libvirt
import NestlabCore

/// Every machine at once: its overlay becomes the read-only golden layer
/// `LAB-MACHINE-golden-NAME.qcow2` (renamed in place on a local host, copied by libvirt on a
/// remote one), and a fresh overlay goes on top of it.
struct CaptureGoldenLayers: SnapshotStep {
    let name = "capture golden layers"

    func run(_ context: SnapshotContext) async throws {
        try await withThrowingTaskGroup(of: GoldenState.MachineLayer.self) { group in
            for (rm, hs) in context.machines {
                group.addTask { try await capture(rm, hs, context) }
            }
            for try await l in group { context.layers.withLock { $0.append(l) } }
        }
    }

    private func capture(_ rm: RenderedMachine, _ hs: HostSession, _ context: SnapshotContext) async throws
        -> GoldenState.MachineLayer
    {
        let m = rm.machine
        let lab = context.s.lab.name
        context.progress.update(m.name, "capturing golden layer")
        let goldenName = GoldenState.volumeName(lab: lab, machine: m.name, golden: context.name)
        let poolName = Lab.poolName(lab: lab)
        let poolPath = Lab.poolPath(lab: lab, host: m.host)
        try await Blocking.run {
            try ErrorWithContext.wrap("capturing \(m.overlayVolume) as \(goldenName) on \(m.host.name)") {
                let pool = try hs.connection.storagePool(named: poolName)
                let overlay = try pool.volume(named: m.overlayVolume)
                if hs.canWriteLocally(poolPath: poolPath), let path = try? overlay.path() {
                    // Local: the overlay file itself becomes the golden layer (no copy).
                    let goldenPath = "\(poolPath)/\(goldenName)"
                    guard rename(path, goldenPath) == 0 else {
                        throw HostError.system("cannot rename \(path)", errno: errno)
                    }
                    _ = chmod(goldenPath, 0o444)
                    try pool.refresh()
                    if try pool.volumeIfExists(named: goldenName) == nil {
                        _ = try pool.createVolume(
                            xml: StorageRenderer.raw(name: goldenName, bytes: 0, mode: "0444").render())
                    }
                    try? pool.volumeIfExists(named: m.overlayVolume)?.delete()
                } else {
                    // Remote: libvirt copies the overlay (flattened) into the golden volume.
                    let xml = XMLElement(
                        "volume", [("type", "file")],
                        [
                            .element(XMLElement("name", text: goldenName)),
                            .element(XMLElement("capacity", [("unit", "bytes")], text: "\(m.disk.bytes)")),
                            .element(XMLElement("target", [], [.element(XMLElement("format", [("type", "qcow2")]))])),
                        ])
                    _ = try pool.createVolume(xml: xml.render(), cloningFrom: overlay)
                    try overlay.delete()
                }
                let golden = try pool.volume(named: goldenName)
                let top = StorageRenderer.overlay(
                    name: m.overlayVolume, capacity: m.disk,
                    backing: VolumeRef(pool: poolName, name: goldenName, path: try golden.path(), identity: ""),
                    backingFormat: .qcow2)
                _ = try pool.createVolume(xml: top.render())
            }
        }
        context.progress.update(m.name, "captured", detail: goldenName)
        return GoldenState.MachineLayer(
            machine: m.name, host: m.host.name, volume: goldenName, specDigest: rm.spec.digest,
            spec: rm.spec.fields.map { [$0.0, $0.1] })
    }
}
