import Foundation
import Libvirt
import NestlabCore

/// A golden state: every machine's disk captured as a read-only qcow2 layer on its
/// host, recorded with the topology and lock digests it was made from.
public struct GoldenState: Codable, Sendable {
    public struct MachineLayer: Codable, Sendable {
        public var machine: String
        public var host: String
        /// The golden layer's volume in the lab pool: `LAB-M-golden-NAME.qcow2`.
        public var volume: String
        public var specDigest: String
        public var spec: [[String]]
    }

    public var name: String
    public var lab: String
    public var createdAt: Date
    public var topologyDigest: String
    public var lockDigest: String?
    public var machines: [MachineLayer]

    static func file(_ state: LabState, _ name: String) -> URL { state.golden.appendingPathComponent("\(name).json") }

    public static func list(_ state: LabState) -> [GoldenState] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.golden.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap { n in
            try? decoder.decode(GoldenState.self, from: Data(contentsOf: state.golden.appendingPathComponent(n)))
        }.sorted { $0.createdAt < $1.createdAt }
    }

    public static func load(_ state: LabState, _ name: String) throws -> GoldenState {
        let f = file(state, name)
        guard FileManager.default.fileExists(atPath: f.path) else {
            let known = list(state).map(\.name)
            throw UsageError(
                "lab '\(state.name)' has no golden state '\(name)'"
                    + (known.isEmpty ? "" : "; golden states: \(known.joined(separator: ", "))"))
        }
        return try decoder.decode(GoldenState.self, from: Data(contentsOf: f))
    }

    func save(_ state: LabState) throws {
        try FileManager.default.createDirectory(
            at: state.golden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.dateEncodingStrategy = .iso8601
        try e.encode(self).write(to: Self.file(state, name), options: .atomic)
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    public static func volumeName(lab: String, machine: String, golden: String) -> String {
        "\(lab)-\(machine)-golden-\(golden).qcow2"
    }

    /// Why this golden state cannot be used for the topology as it is now; nil when it can.
    public func mismatch(with s: LabSession) -> String? {
        var out: [String] = []
        for rm in s.rendered.machines {
            guard let layer = machines.first(where: { $0.machine == rm.machine.name }) else {
                out.append("machine \(rm.machine.name) is new since the golden state")
                continue
            }
            if layer.specDigest != rm.spec.digest {
                let old = MachineSpec(fields: layer.spec.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil })
                out.append("\(rm.machine.name): " + rm.spec.differences(from: old).joined(separator: ", "))
            }
        }
        for layer in machines where s.rendered.machine(named: layer.machine) == nil {
            out.append("machine \(layer.machine) is gone from the topology")
        }
        if out.isEmpty && topologyDigest != s.topology.digest {
            // Same machines, other text (comments, a cluster knob): still a different testbed description.
            out.append(
                "the topology file changed (sha256 \(topologyDigest.prefix(12))… → \(s.topology.digest.prefix(12))…)")
        }
        return out.isEmpty ? nil : out.joined(separator: "; ")
    }
}

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
                    if MiniXML.elements(try other.xmlDesc()).contains(where: {
                        $0.localName == "path" && $0.text == path
                    }),
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

public enum SnapshotError: Error, CustomStringConvertible {
    case shutdownTimeout(machine: String, seconds: Int)
    case missingLayer(machine: String, volume: String, host: String)
    case layerInUse(volume: String, by: String)

    public var description: String {
        switch self {
        case .shutdownTimeout(let m, let s):
            return
                "\(m) did not shut down within \(s)s (ACPI power button); check that the guest handles it, or shut it down by hand"
        case .missingLayer(let m, let v, let h):
            return "the golden layer \(v) of \(m) is gone from \(h); take a new snapshot or rebuild --fresh"
        case .layerInUse(let v, let by):
            return
                "golden layer \(v) is the base of \(by), the machine's current disk; rebuild --fresh first, or keep the golden state"
        }
    }
}
