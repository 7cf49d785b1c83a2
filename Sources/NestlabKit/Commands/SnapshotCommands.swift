import Foundation
import NestlabCore

public enum SnapshotCommands {
    /// Opens the lab of a FILE|LAB argument (a lab name needs the topology recorded at `up`).
    static func session(_ target: String) throws -> LabSession {
        let store = StateStore.default()
        let t = try LabTarget.resolve(target, store: store, connect: nil)
        guard let file = t.file else {
            throw UsageError("lab '\(t.lab)' has no recorded topology file here; give the topology file instead")
        }
        var o = LabSession.Options()
        o.parsed = t.topology.map { ($0, []) }  // parsed once, by resolve
        return try LabSession.open(file: file, options: o)
    }

    public static func create(target: String, name: String?, flags: RunFlags) async throws {
        let s = try session(target)
        let lock = try LabLock(s.state, command: "snapshot \(target)")
        defer { withExtendedLifetime(lock) {} }
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMdd-HHmmss"
        stamp.timeZone = TimeZone(identifier: "UTC")
        let n = name ?? "golden-" + stamp.string(from: Date())
        let g = try await SnapshotEngine.snapshot(s, name: n, progress: flags.progress(log: s.state.log))
        if flags.format == .json {
            Console.out(try JSONOutput.string(g))
        } else {
            Console.out(
                "golden state '\(g.name)' of lab \(g.lab): \(g.machines.count) machine layer(s); `nestlab rebuild FILE` now starts from it"
            )
        }
    }

    public static func list(target: String, format: OutputFormat) throws {
        let store = StateStore.default()
        let t = try LabTarget.resolve(target, store: store, connect: nil)
        let states = GoldenState.list(store.lab(t.lab))
        if format == .json {
            Console.out(try JSONOutput.string(states))
            return
        }
        if states.isEmpty {
            Console.out("lab \(t.lab) has no golden states")
            return
        }
        let f = ISO8601DateFormatter()
        for g in states {
            Console.out(
                "\(g.name)  \(f.string(from: g.createdAt))  \(g.machines.count) machine(s)  topology \(g.topologyDigest.prefix(12))"
            )
        }
    }

    public static func remove(target: String, name: String) throws {
        let s = try session(target)
        let lock = try LabLock(s.state, command: "snapshot rm \(name)")
        defer { withExtendedLifetime(lock) {} }
        let g = try GoldenState.load(s.state, name)
        try SnapshotEngine.remove(s.state, golden: g, sessions: s.sessions)
        Console.out("removed golden state '\(name)'")
    }

    /// `rebuild FILE --from NAME`: the default once a golden state exists; false when there is none.
    static func rebuildFrom(session s: LabSession, file: String, name: String?, options: UpOptions, flags: RunFlags)
        async throws -> Bool
    {
        let states = GoldenState.list(s.state)
        guard let g = try name.map({ try GoldenState.load(s.state, $0) }) ?? states.last else { return false }
        let lock = try LabLock(s.state, command: "rebuild \(file) --from \(g.name)")
        defer { withExtendedLifetime(lock) {} }
        if flags.format == .text {
            Console.err("rebuild: from golden state '\(g.name)' (use --fresh for a full bring-up)")
        }
        let started = Date()
        let report = try await RebuildEngine.run(
            s, from: .golden(g), options: options, progress: flags.progress(log: s.state.log))
        try await TestbedWriter.write(
            s, phases: [Testbed.Phase(name: "restore-\(g.name)", start: started, end: Date())])
        if flags.format == .json {
            Console.out(try JSONOutput.string(report))
        } else {
            LifecycleCommands.printUp(report, verbose: flags.verbose)
        }
        return true
    }
}
