import Foundation
import NestlabCore
import Synchronization

public enum LifecycleCommands {
    // MARK: up

    public static func up(
        file: String, options: UpOptions, flags: RunFlags, skipPreflight: Bool, handoff: Bool = false,
        sessionOptions: LabSession.Options = LabSession.Options()
    ) async throws {
        let s = try await openForChange(file: file, flags: flags, sessionOptions: sessionOptions)
        try await up(
            session: s, file: file, options: options, flags: flags, skipPreflight: skipPreflight, handoff: handoff)
    }

    /// Parses the topology once, fetches its URL images into the artifact cache (downloaded once,
    /// verified, pinned in the lock file), and opens the lab on that one parse.
    static func openForChange(file: String, flags: RunFlags, sessionOptions: LabSession.Options) async throws
        -> LabSession
    {
        var o = sessionOptions
        let parsed = try o.parsed ?? TopologyParser(environment: o.environment, checksFiles: true).load(path: file)
        o.parsed = parsed
        if !(try LabArtifacts.wanted(
            parsed.topology, lock: try LockFile.load(forTopology: file), updateLock: false, imagesOnly: true)).isEmpty
        {
            try await LabArtifacts.fetch(
                file: file, topology: parsed.topology, updateLock: false, imagesOnly: true,
                cache: CacheCommands.cache(progress: flags.format == .text))
        }
        return try LabSession.open(file: file, options: o)
    }

    /// `up`, or with `rebuild` a fresh rebuild (`RebuildEngine`: down's steps, then up's) under
    /// the same lock, preflight (before anything is torn down), testbed.json and report.
    static func up(
        session s: LabSession, file: String, options: UpOptions, flags: RunFlags, skipPreflight: Bool,
        handoff: Bool, rebuild: Bool = false
    ) async throws {
        let lock = try LabLock(s.state, command: "\(rebuild ? "rebuild" : "up") \(file)")
        defer { withExtendedLifetime(lock) {} }
        try LabRecord(session: s, topologyFile: file).save(s.state)
        try Kubeconfigs.writeAll(s)
        let progress = flags.progress(log: s.state.log)
        for w in s.warnings where flags.format == .text { Console.err(w.description) }
        var phases: [Testbed.Phase] = []
        let preflightStart = Date()
        if !skipPreflight {
            let report = try await Preflight.run(session: s)
            if report.hasErrors {
                if flags.format == .json {
                    Console.out(try JSONOutput.string(report))
                } else {
                    Console.err(report.text(onlyProblems: true))
                }
                throw PreflightFailed(errors: report.errorCount)
            }
            for f in report.findings where f.level == .warning && flags.format == .text {
                Console.err("warning: \(f.host): \(f.check): \(f.message)" + (f.fix.map { " (fix: \($0))" } ?? ""))
            }
        }
        if !skipPreflight { phases.append(Testbed.Phase(name: "preflight", start: preflightStart, end: Date())) }
        Interruption.shared.install {
            progress.note("interrupted: finishing the current steps (Ctrl-C again to quit at once)")
        }
        let report: UpReport
        let upStart = Date()
        do {
            report =
                rebuild
                ? try await RebuildEngine.run(s, from: .fresh, options: options, progress: progress)
                : try await UpEngine(session: s, options: options, progress: progress).run()
        } catch UpError.failed(let r, let reasons) {
            if flags.format == .json { Console.out(try JSONOutput.string(r)) } else { printUp(r, verbose: true) }
            throw UpError.failed(r, reasons: reasons)
        }
        phases.append(
            Testbed.Phase(name: options.wait ? "machines-ready" : "machines-started", start: upStart, end: Date()))
        let testbed = try await TestbedWriter.write(s, phases: phases)
        if flags.format == .json {
            Console.out(try JSONOutput.string(report))
        } else {
            printUp(report, verbose: flags.verbose)
            Console.out("testbed: \(testbed.path)")
        }
        if handoff {
            let code = try await HandoffCommand.run(file: file, topology: s.topology)
            if code != 0 { throw HandoffFailed(code: code) }
        }
    }

    static func printUp(_ r: UpReport, verbose: Bool) {
        var out = ""
        for m in r.machines {
            var line = "\(m.name) [\(m.host)] \(m.action)"
            if let a = m.address { line += " \(a)" }
            if m.ready == true { line += " ready" }
            if let e = m.error { line += ": \(e)" }
            out += line + "\n"
            if m.error != nil, let tail = m.consoleTail, !tail.isEmpty {
                out +=
                    "  last console lines of \(m.name):\n"
                    + tail.suffix(15).map { "    | \($0)" }.joined(separator: "\n") + "\n"
            }
        }
        if r.ok {
            out +=
                r.changed
                ? "lab \(r.lab) is up (\(String(format: "%.1f", r.seconds))s)\n"
                : "lab \(r.lab) is up; nothing changed (\(String(format: "%.1f", r.seconds))s)\n"
        }
        Console.out(out)
    }

    // MARK: down

    public static func down(target: String, connect: String?, purge: Bool, flags: RunFlags) async throws {
        let store = StateStore.default()
        let t = try LabTarget.resolve(target, store: store, connect: connect)
        let state = store.lab(t.lab)
        let hadState = state.exists
        let lock = try LabLock(state, command: "down \(target)")
        defer { withExtendedLifetime(lock) {} }
        // Bare-metal cluster nodes: kubeadm reset and removal of what nestlab installed, over SSH.
        var resetFailures: [String] = []
        if let file = t.file, state.exists, let topo = t.topology,
            topo.clusters.contains(where: {
                $0.allNodes.contains { if case .host = $0 { return true } else { return false } }
            })
        {
            resetFailures = try await resetBareMetal(file: file, topology: topo, state: state, flags: flags)
        }
        // Every host that answers is cleaned; one that does not is named at the end (exit 1), and
        // a later `down` finishes the job there.
        var sessions: [HostSession] = []
        var unreachable: [String] = []
        for h in t.hosts where t.topology?.machines.contains(where: { $0.host == h.name }) ?? true {
            do { sessions.append(try HostSession(host: h)) } catch {
                unreachable.append("host '\(h.name)' at \(h.libvirt): \(error)")
            }
        }
        if sessions.isEmpty && !unreachable.isEmpty {
            throw OperationError("cannot reach " + unreachable.joined(separator: "; ") + "; nothing was removed")
        }
        var opts = DownEngine.Options()
        opts.purge = purge && unreachable.isEmpty  // the state says where the rest of the lab is
        let report = try await DownEngine.run(
            lab: t.lab, sessions: sessions, state: state, options: opts,
            progress: flags.progress(log: purge || !hadState ? nil : state.log))
        // Down everywhere: the lab can no longer be reached (`ssh`, `exec` and the rest say so).
        if unreachable.isEmpty { LabAccess.removeFiles(state) }
        // The lock made a state folder; for a lab nestlab never knew, `status` would list it forever.
        if !hadState && !report.removedAnything { try? state.remove() }
        if flags.format == .json {
            Console.out(try JSONOutput.string(report))
            return
        }
        Console.out(downText(report, lab: t.lab, state: state))
        if !resetFailures.isEmpty {
            throw OperationError("bare-metal reset failed on: " + resetFailures.joined(separator: "; "))
        }
        if !unreachable.isEmpty {
            throw OperationError(
                "the lab's objects on other hosts are removed, but not on: " + unreachable.joined(separator: "; ")
                    + "; run `nestlab down` again once the host answers")
        }
    }

    /// kubeadm reset on every bare-metal node of the lab's clusters; returns the nodes where it failed.
    private static func resetBareMetal(file: String, topology topo: Topology, state: LabState, flags: RunFlags)
        async throws -> [String]
    {
        var resetFailures: [String] = []
        var o = LabSession.Options()
        o.offline = true
        o.allowUnfetched = true
        o.parsed = (topo, [])
        let s = try LabSession.open(file: file, options: o)
        let progress = flags.progress(log: state.log)
        if !FileManager.default.fileExists(atPath: state.knownHosts.path) {
            // Brought up by an older nestlab: read the nodes' keys now, as up does.
            let access = LabAccess(lab: s.lab, state: state)
            let (external, notes) = await access.readExternalKeys()
            for n in notes { progress.note(n) }
            try access.write(hostKeys: s.secrets.hostKeys, external: external)
        }
        for c in s.clusters {
            for n in c.nodes {
                guard case .host(let h) = n.kind else { continue }
                let key = "host:\(h.name)"
                progress.update(key, "kubeadm reset over ssh")
                let reset = try NodeBootstrapRenderer.reset(
                    cluster: c.spec, node: NodeSpec(name: n.name, ip: n.address, role: .worker))
                let o = try await BareMetal.run(
                    node: n.name, target: h.ssh ?? h.name, files: reset.files, command: reset.entryCommand,
                    log: state.log, knownHosts: state.knownHosts
                ) { phase, status, detail in progress.update(key, "\(phase): \(status)", detail: detail) }
                if o.ok {
                    progress.finish(key, "reset")
                } else {
                    progress.finish(key, "reset failed", failed: true, detail: o.detail ?? "")
                    resetFailures.append("\(key): \(o.detail ?? "reset failed")")
                }
            }
        }
        return resetFailures
    }

    private static func downText(_ report: DownReport, lab: String, state: LabState) -> String {
        var out = ""
        for (kind, items) in [
            ("domain", report.domains), ("volume", report.volumes), ("network", report.networks),
            ("pool", report.pools), ("base image", report.images),
        ] where !items.isEmpty {
            out += "removed \(items.count) \(kind)\(items.count == 1 ? "" : "s"): \(items.joined(separator: ", "))\n"
        }
        for k in report.kept { out += "kept \(k)\n" }
        if report.stateRemoved { out += "removed local state \(state.dir.path)\n" }
        out += report.removedAnything ? "lab \(lab) is down\n" : "lab \(lab) has nothing in libvirt\n"
        return out
    }

    // MARK: status

    public static func status(target: String?, connect: String?, format: OutputFormat) async throws {
        let store = StateStore.default()
        var targets: [LabTarget] = []
        if let target {
            targets = [try LabTarget.resolve(target, store: store, connect: connect)]
        } else {
            targets = store.labs().compactMap { name in
                do {
                    return try LabTarget.resolve(name, store: store, connect: connect)
                } catch let e as LabRecordError {
                    // Said, and the other labs still shown (`status LAB` stops on it instead).
                    Console.err("warning: lab '\(name)' left out: \(e)")
                    return nil
                } catch {
                    return nil  // a folder whose name is not a lab's
                }
            }
        }
        var reports: [StatusReport] = []
        for t in targets {
            // Drift needs the rendered lab, whose seeds need the lab's secrets: only for labs that have them.
            var o = LabSession.Options()
            o.parsed = t.topology.map { ($0, []) }
            let rendered =
                store.lab(t.lab).exists ? t.file.flatMap { try? LabSession.open(file: $0, options: o).rendered } : nil
            let hostsUsed =
                rendered.map { r in t.hosts.filter { h in r.machines.contains { $0.machine.host.name == h.name } } }
                ?? t.hosts
            let sessions = try hostsUsed.map { try HostSession(host: $0) }
            reports.append(try await StatusEngine.run(lab: t.lab, sessions: sessions, rendered: rendered))
        }
        switch format {
        case .json:
            Console.out(try JSONOutput.string(target == nil ? AnyStatus.many(reports) : AnyStatus.one(reports[0])))
        case .text:
            if reports.isEmpty {
                Console.out("no labs known here (nothing under \(store.root.path))")
                return
            }
            for r in reports { Console.out(statusText(r)) }
        }
    }

    enum AnyStatus: Encodable {
        case one(StatusReport)
        case many([StatusReport])
        func encode(to encoder: any Encoder) throws {
            switch self {
            case .one(let r): try r.encode(to: encoder)
            case .many(let rs): try rs.encode(to: encoder)
            }
        }
    }

    static func statusText(_ r: StatusReport) -> String {
        var rows = [["MACHINE", "HOST", "STATE", "ACCEL", "ADDRESS", "VCPU PINS", "HUGEPAGES", "READY"]]
        for m in r.machines {
            let pins =
                m.vcpuPins.allSatisfy { $0.isEmpty }
                ? "-" : m.vcpuPins.map { CPUSet($0).description }.joined(separator: " ")
            let huge = m.hugepageKiB.map { $0 >= 1 << 20 ? "\($0 >> 20)G" : "\($0 >> 10)M" } ?? "-"
            rows.append([
                m.machine, m.host, m.state + (m.drift == nil ? "" : " (drift)"), m.accel,
                m.addresses.joined(separator: ","), pins, huge, m.ready ? "yes" : "no",
            ])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = "lab \(r.lab)\n"
        for row in rows {
            out +=
                row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        if r.machines.isEmpty { out += "(no machines in libvirt)\n" }
        for m in r.missing { out += "missing: \(m) is in the topology but not in libvirt (nestlab up creates it)\n" }
        for m in r.machines where m.drift != nil {
            out += "drift: \(m.machine): \(m.drift!.joined(separator: ", "))\n"
        }
        return out
    }

    // MARK: rebuild

    /// `nestlab rebuild`: from the newest golden state (or `golden`) when there is one and the
    /// whole lab is rebuilt, unless `fresh`; otherwise down's steps and up's (`RebuildEngine`),
    /// under one lock, after preflight. One parse, one session.
    public static func rebuild(
        file: String, machines: [String], golden: String? = nil, fresh: Bool = false, options: UpOptions,
        flags: RunFlags, skipPreflight: Bool = false,
        sessionOptions: LabSession.Options = LabSession.Options()
    ) async throws {
        let s = try await openForChange(file: file, flags: flags, sessionOptions: sessionOptions)
        if !fresh && machines.isEmpty,
            try await SnapshotCommands.rebuildFrom(session: s, file: file, name: golden, options: options, flags: flags)
        {
            return
        }
        for m in machines where s.lab.machine(named: m) == nil {
            let names = s.lab.machines.map(\.name)
            throw UsageError("no machine '\(m)' in lab \(s.lab.name); machines: \(names.joined(separator: ", "))")
        }
        var up = options
        if !machines.isEmpty { up.only = Set(machines) }
        try await Self.up(
            session: s, file: file, options: up, flags: flags, skipPreflight: skipPreflight, handoff: false,
            rebuild: true)
    }
}
