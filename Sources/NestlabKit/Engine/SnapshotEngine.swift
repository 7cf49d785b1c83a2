import Foundation
import Libvirt
import NestlabCore

/// `nestlab snapshot` and `rebuild --from`: golden layers of a ready lab.
public enum SnapshotEngine {
    /// Shuts the machines down cleanly, turns each overlay into a golden layer with a
    /// fresh overlay on top, records the golden state, and starts the machines again.
    public static func snapshot(
        _ s: LabSession, name: String, progress: ProgressView, options: UpOptions = UpOptions(),
        shutdownTimeout: TimeInterval = 300
    ) async throws -> GoldenState {
        guard name.range(of: #"^[a-z0-9][a-z0-9-]{0,30}$"#, options: .regularExpression) != nil else {
            throw UsageError("'\(name)' is not a valid golden state name (lower-case letters, digits and '-')")
        }
        if (try? GoldenState.load(s.state, name)) != nil {
            throw UsageError(
                "golden state '\(name)' exists; remove it first with `nestlab snapshot rm \(name)` or choose another name"
            )
        }
        let plan = try await Blocking.run { try Planner.plan(s) }
        for mp in plan.machines {
            guard case .unchanged(running: true) = mp.action, mp.readyInstance == mp.rendered.seed.instanceID else {
                throw UsageError(
                    "machine \(mp.rendered.machine.name) is not up and ready as the topology says (\(mp.action.label)); run `nestlab up` first"
                )
            }
        }
        var layers: [GoldenState.MachineLayer] = []
        try await withThrowingTaskGroup(of: GoldenState.MachineLayer.self) { group in
            for mp in plan.machines {
                let rm = mp.rendered
                guard let hs = s.sessions[rm.machine.host.name] else { continue }
                group.addTask {
                    try await capture(
                        rm, hs, lab: s.lab.name, golden: name, progress: progress, timeout: shutdownTimeout)
                }
            }
            for try await l in group { layers.append(l) }
        }
        let g = GoldenState(
            name: name, lab: s.lab.name, createdAt: Date(), topologyDigest: s.topology.digest,
            lockDigest: s.lock?.digest,
            machines: layers.sorted { $0.machine < $1.machine })
        try g.save(s.state)
        // Start the machines again on their fresh overlays and wait until they are ready, like up.
        _ = try await UpEngine(session: s, options: options, progress: progress).run()
        return g
    }

    static func capture(
        _ rm: RenderedMachine, _ hs: HostSession, lab: String, golden: String, progress: ProgressView,
        timeout: TimeInterval
    ) async throws -> GoldenState.MachineLayer {
        let m = rm.machine
        progress.update(m.name, "shutting down")
        try await shutDown(m, hs, timeout: timeout)
        progress.update(m.name, "capturing golden layer")
        let goldenName = GoldenState.volumeName(lab: lab, machine: m.name, golden: golden)
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
        progress.update(m.name, "captured", detail: goldenName)
        return GoldenState.MachineLayer(
            machine: m.name, host: m.host.name, volume: goldenName, specDigest: rm.spec.digest,
            spec: rm.spec.fields.map { [$0.0, $0.1] })
    }

    /// Shuts the machine down and waits until its domain is off, at most `timeout`.
    private static func shutDown(_ m: Machine, _ hs: HostSession, timeout: TimeInterval) async throws {
        let d = try await Blocking.run { try hs.connection.domain(named: m.domainName) }
        try await Blocking.run { try ErrorWithContext.wrap("shutting down \(m.domainName)") { try d.shutdown() } }
        let deadline = Date().addingTimeInterval(timeout)
        while try await Blocking.run({ try d.isActive() }) {
            if Date() > deadline {
                throw ErrorWithContext(
                    "shutting down \(m.domainName)",
                    SnapshotError.shutdownTimeout(machine: m.name, seconds: Int(timeout)))
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }

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

    /// Removes a golden state: its layers on every host, then its record.
    public static func remove(_ state: LabState, golden g: GoldenState, sessions: [String: HostSession]) throws {
        for layer in g.machines {
            guard let hs = sessions[layer.host] else { continue }
            try ErrorWithContext.wrap("removing golden layer \(layer.volume) on \(layer.host)") {
                // An overlay still based on this layer (the running machine) keeps it in use.
                let pool = try hs.connection.storagePool(named: Lab.poolName(lab: g.lab))
                guard let v = try pool.volumeIfExists(named: layer.volume) else { return }
                let path = try v.path()
                for other in try pool.listAllVolumes() where other.name != layer.volume {
                    let volume = try VolumeDescription(xml: try other.xmlDesc(), of: other.name)
                    if volume.path == path || volume.backingStore?.path == path,
                        other.name.hasSuffix(".qcow2") && !other.name.contains("-golden-")
                    {
                        throw SnapshotError.layerInUse(volume: layer.volume, by: other.name)
                    }
                }
                try v.delete()
            }
        }
        try FileManager.default.removeItem(at: GoldenState.file(state, g.name))
    }
}
