import Foundation
import Libvirt
import NestlabCore

public struct UpOptions: Sendable {
    /// How many machines are prepared at once on each host (hosts are prepared side by side).
    public var parallel = 4
    /// Recreate machines whose spec drifted from the topology.
    public var recreate = false
    /// Wait for every machine to report that cloud-init finished.
    public var wait = true
    public var readyTimeout: TimeInterval = 900
    /// Only these machines (rebuild --machine); nil means all.
    public var only: Set<String>?
    /// Machine → golden layer path: new overlays go on these instead of the base image (rebuild --from).
    public var goldenBacking: [String: String] = [:]
    /// How long to wait for each cluster's API server and nodes once its machines are ready.
    public var clusterTimeout: TimeInterval = 600
    /// Console silence (seconds) before init that counts as a hung kernel; 0 turns the check off.
    public var bootStallSeconds: TimeInterval = 120
    /// Resets of a hung guest before it counts as failed.
    public var bootStallResets = 1
    /// How many VMs boot at once per host (see ``BootLimit``).
    public var bootLimit: BootLimit = .auto

    public init() {}
}

/// The result of `up`, for people and for `--output json`.
public struct UpReport: Codable, Sendable {
    public struct MachineResult: Codable, Sendable {
        public var name: String
        public var host: String
        public var action: String
        public var state: String
        public var address: String?
        public var ready: Bool?
        public var instance: String?
        public var drift: [String]?
        public var error: String?
        public var failedPhase: String?
        public var consoleTail: [String]?
    }

    public struct ClusterResult: Codable, Sendable {
        public var name: String
        public var apiServer: String
        public var ready: Bool
        public var nodes: [ClusterReadiness.NodeState]
        public var error: String?
    }

    public var lab: String
    public var changed: Bool
    public var machines: [MachineResult]
    public var clusters: [ClusterResult] = []
    public var networksCreated: [String]
    public var imagesPlaced: [String]
    /// Volumes (`HOST:NAME: why`) that had the right name but not the right content, and were replaced.
    public var volumesReplaced: [String] = []
    public var seconds: Double
    public var warnings: [String]
    public var ok: Bool
}

public enum UpError: Error, CustomStringConvertible {
    case conflicts([String])
    case failed(UpReport, reasons: [String])
    case interrupted(created: Int)

    public var description: String {
        switch self {
        case .conflicts(let c):
            return "nothing was created, because these objects exist but do not belong to this lab:\n  " + c.joined(separator: "\n  ")
                + "\nrename or remove them, or give the lab another name"
        case .failed(_, let reasons):
            return reasons.joined(separator: "\n") + "\neverything up created is tagged with the lab: `nestlab down` removes it, `nestlab up` again converges"
        case .interrupted(let n):
            return "interrupted after creating \(n) object(s); all are tagged with the lab: `nestlab up` resumes, `nestlab down` removes them"
        }
    }
}

/// `nestlab up`: makes libvirt match the topology, machine by machine, and waits for the guests.
public final class UpEngine: @unchecked Sendable {
    let s: LabSession
    let options: UpOptions
    let progress: ProgressView
    private let lock = NSLock()
    private var created = 0
    private var networksCreated: [String] = []
    private var imagesPlaced: [String] = []
    private var volumesReplaced: [String] = []
    private var results: [String: UpReport.MachineResult] = [:]
    private var clusterResults: [UpReport.ClusterResult] = []
    private var gates: [String: BootGate] = [:]
    /// VMs that belong to a cluster: they boot together (a control plane waits for its workers).
    private let clusterMembers: Set<String>

    public init(session: LabSession, options: UpOptions, progress: ProgressView) {
        s = session
        self.options = options
        self.progress = progress
        clusterMembers = Set(session.clusters.flatMap { c in
            c.nodes.compactMap { n -> String? in if case .host = n.kind { return nil } else { return n.name } }
        })
    }

    private func count() { lock.withLock { created += 1 } }

    public func run() async throws -> UpReport {
        let started = Date()
        let plan = try await Blocking.run { [s] in try Planner.plan(s) }
        let selected = plan.machines.filter { options.only == nil || options.only!.contains($0.rendered.machine.name) }

        let conflicts = selected.filter { $0.action == .foreign }.map {
            "domain '\($0.rendered.machine.domainName)' on \($0.rendered.machine.host.name)"
        }
        if !conflicts.isEmpty { throw UpError.conflicts(conflicts) }

        // How each machine is reached: known_hosts (the keys nestlab made, and the keys of the
        // hosts it reaches over SSH), the SSH config and access.json, before anything boots.
        let access = LabAccess(lab: s.lab, state: s.state)
        let (external, notes) = await access.readExternalKeys()
        for n in notes { progress.note(n) }
        try access.write(hostKeys: s.secrets.hostKeys, external: external)

        // Shared objects first: each host's pools, networks and base images, all hosts at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for session in s.sessions.values {
                group.addTask { try await self.prepareHost(session) }
            }
            try await group.waitForAll()
        }

        // Guests of clusters whose artifacts are all cached install them from here, not the internet.
        var mirrors: [ArtifactMirror] = []
        defer { for m in mirrors { m.stop() } }
        if !s.mirrorAddresses.isEmpty && !options.wait {
            progress.note("warning: --no-wait stops the artifact mirror when up returns, while the nodes may still be installing from it")
        }
        for address in s.mirrorAddresses {
            // The seeds point the guests here: without the mirror they could not install anything.
            mirrors.append(try ErrorWithContext.wrap("serving the artifact cache on the lab network") {
                try ArtifactMirror(cacheRoot: s.cacheRoot, address: address)
            })
            progress.note("serving the artifact cache to guests at http://\(address):\(ArtifactMirror.defaultPort)")
        }

        // Machines, in parallel up to the bound.
        let watchers = try await prepareMachines(selected)

        if options.wait {
            // Bare-metal nodes bootstrap over SSH while the VMs boot.
            async let hosts: Void = bootstrapHosts()
            await waitForReady(watchers)
            await hosts
            await waitForClusters()
        }
        progress.close()

        var report = makeReport(selected, started: started)
        report.clusters = lock.withLock { clusterResults }
        if report.clusters.contains(where: { !$0.ready }) { report.ok = false }
        if Interruption.shared.isRequested { throw UpError.interrupted(created: lock.withLock { created }) }
        if !report.ok {
            var reasons: [String] = []
            for c in report.clusters where !c.ready {
                reasons.append("cluster \(c.name): \(c.error ?? "not ready")")
            }
            for m in report.machines {
                if let e = m.error { reasons.append("\(m.name): \(e)") }
                if let d = m.drift, !d.isEmpty {
                    reasons.append("\(m.name) differs from the topology: \(d.joined(separator: ", ")); run `nestlab up --recreate` to recreate it")
                }
            }
            throw UpError.failed(report, reasons: reasons)
        }
        return report
    }

    private func checkInterrupt() throws {
        if Interruption.shared.isRequested { throw UpError.interrupted(created: lock.withLock { created }) }
    }

    // MARK: hosts

    /// A host's storage pools, networks and base images, in that order.
    private func prepareHost(_ session: HostSession) async throws {
        try checkInterrupt()
        let host = session.host
        let hostName = host.name
        progress.update(hostName, "storage pools", detail: host.libvirt)
        try await Blocking.run { [s] in
            let images = try session.ensurePool(name: Lab.imagePoolName, path: Lab.imagePoolPath(host: host), uuid: Identity.uuid("pool", "images"))
            try session.ensurePool(name: Lab.poolName(lab: s.lab.name), path: Lab.poolPath(lab: s.lab.name, host: host),
                                   uuid: Identity.uuid("pool", s.lab.name))
            // What libvirt holds for the folder must be what is on disk before volumes are checked.
            try? images.refresh()
        }
        for (net, xml) in s.rendered.networks where net.hosts.contains(hostName) {
            guard let xml else { continue }
            try checkInterrupt()
            progress.update(hostName, "network \(net.libvirtName)")
            let r = try await Blocking.run { try session.ensureNetwork(net, xml: xml) }
            if r == .created { lock.withLock { networksCreated.append("\(hostName):\(net.libvirtName)"); created += 1 } }
        }
        try await placeImages(session)
        progress.finish(hostName, "ready for machines")
    }

    /// Records a volume placed or replaced on a host, and says so when it was replaced.
    private func recordPlacement(_ outcome: PlacementOutcome, volume: String, host: String) {
        switch outcome {
        case .present:
            return
        case .placed:
            lock.withLock { imagesPlaced.append("\(host):\(volume)"); created += 1 }
        case .replaced(let why):
            noteReplaced(volume, host: host, why: why)
            lock.withLock {
                imagesPlaced.append("\(host):\(volume)")
                created += 1
            }
        }
    }

    /// Says that a volume had the right name but not the right content, and lists it in the report.
    private func noteReplaced(_ volume: String, host: String, why: String) {
        progress.note("host \(host): volume \(volume) was not what nestlab placed there (\(why)): replaced")
        lock.withLock { volumesReplaced.append("\(host):\(volume): \(why)") }
    }

    // MARK: images

    private func placeImages(_ session: HostSession) async throws {
        let hostName = session.host.name
        let needed = s.rendered.machines.filter { $0.machine.host.name == hostName }
        var done = Set<String>()
        for rm in needed {
            guard let local = s.images[rm.machine.image.name] else { continue }
            var files: [(VolumeRef, LocalFile)] = [(rm.base.disk, local.disk)]
            if let k = rm.base.kernel, let lk = local.kernel { files.append((k, lk)) }
            if let i = rm.base.initrd, let li = local.initrd { files.append((i, li)) }
            for (ref, file) in files where done.insert(ref.name).inserted {
                try checkInterrupt()
                let poolPath = Lab.imagePoolPath(host: session.host)
                progress.update(hostName, "image \(ref.name)")
                let r = try await Blocking.run { [progress] in
                    let pool = try session.connection.storagePool(named: Lab.imagePoolName)
                    let content = try VolumeContent(file: file.path)
                    return try session.ensureVolume(pool: pool, poolPath: poolPath, name: ref.name, content: content, mode: "0644") { sent, total in
                        let pct = total > 0 ? Int(Double(sent) / Double(total) * 100) : 100
                        progress.update(hostName, "image \(ref.name)", detail: "\(pct)%")
                    }
                }
                recordPlacement(r.outcome, volume: ref.name, host: hostName)
            }
        }
    }

    // MARK: machines

    /// Prepares every host's machines, the hosts side by side; `--parallel` bounds each host.
    private func prepareMachines(_ plans: [MachinePlan]) async throws -> [String: ConsoleWatcher] {
        let byHost = Dictionary(grouping: plans) { $0.rendered.machine.host.name }
        return try await withThrowingTaskGroup(of: [String: ConsoleWatcher].self) { group in
            for hostPlans in byHost.values {
                group.addTask { try await self.prepareMachines(onOneHost: hostPlans) }
            }
            var all: [String: ConsoleWatcher] = [:]
            for try await watchers in group { all.merge(watchers) { a, _ in a } }
            return all
        }
    }

    /// One host's machines, in the topology's order, at most `--parallel` at once.
    private func prepareMachines(onOneHost plans: [MachinePlan]) async throws -> [String: ConsoleWatcher] {
        var watchers: [String: ConsoleWatcher] = [:]
        try await withThrowingTaskGroup(of: (String, ConsoleWatcher?).self) { group in
            var it = plans.makeIterator()
            var running = 0
            func launch(_ p: MachinePlan) {
                // Queued in the topology's order as it is launched, so that the first queued
                // machine is always being prepared or waiting at the gate: never a deadlock.
                let name = p.rendered.machine.name
                let gate = options.wait ? s.sessions[p.rendered.machine.host.name].flatMap { bootGate(for: p.rendered, $0) } : nil
                gate?.enqueue(name)
                group.addTask { [self] in
                    let w = await self.converge(p)
                    gate?.withdraw(name)  // no-op once it took its share
                    return (name, w)
                }
            }
            while running < max(1, options.parallel), let p = it.next() { launch(p); running += 1 }
            while let (name, w) = try await group.next() {
                if let w { watchers[name] = w }
                if !Interruption.shared.isRequested, let p = it.next() { launch(p) }
            }
        }
        return watchers
    }

    private func record(_ name: String, _ update: (inout UpReport.MachineResult) -> Void) {
        lock.withLock {
            guard var r = results[name] else { return }
            update(&r)
            results[name] = r
        }
    }

    /// Brings one machine to the desired state; returns a console watcher when it must be waited for.
    private func converge(_ p: MachinePlan) async -> ConsoleWatcher? {
        let rm = p.rendered
        let m = rm.machine
        let name = m.name
        lock.withLock {
            results[name] = UpReport.MachineResult(name: name, host: m.host.name, action: p.action.label, state: "unknown",
                                                   address: m.primaryAddress?.description, ready: nil, instance: rm.seed.instanceID)
        }
        guard let session = s.sessions[m.host.name] else { return nil }
        if Interruption.shared.isRequested { return nil }
        do {
            switch p.action {
            case .foreign:
                return nil
            case .drift(let diff):
                if !options.recreate {
                    record(name) { $0.drift = diff; $0.state = "drift" }
                    progress.finish(name, "differs from the topology", failed: true, detail: diff.joined(separator: ", "))
                    return nil
                }
                progress.update(name, "recreating", detail: diff.joined(separator: ", "))
                try await Blocking.run { [s] in
                    for (d, meta) in try session.labDomains(s.lab.name) where meta.machine == name { try session.removeDomain(d) }
                    // A recreated machine starts from a fresh disk, like a new one.
                    let pool = try session.connection.storagePool(named: Lab.poolName(lab: s.lab.name))
                    try ErrorWithContext.wrap("deleting overlay \(m.overlayVolume) on \(m.host.name)") {
                        try pool.volumeIfExists(named: m.overlayVolume)?.delete()
                    }
                }
                record(name) { $0.action = "recreate"; $0.drift = nil }
                return try await create(rm, session)
            case .create:
                return try await create(rm, session)
            case .unchanged(let running):
                if !running {
                    let d = try await Blocking.run { try session.connection.domain(named: m.domainName) }
                    return try await boot(d, rm, session)
                }
                record(name) { $0.state = "running" }
                if p.readyInstance == rm.seed.instanceID || !options.wait {
                    record(name) { $0.ready = p.readyInstance == rm.seed.instanceID ? true : nil }
                    progress.finish(name, "unchanged")
                    return nil
                }
                // Running, but nestlab never saw it become ready (an interrupted run): look again.
                let d = try await Blocking.run { try session.connection.domain(named: m.domainName) }
                let source = consoleSource(m, from: .start)
                var history: Data?
                if source == .stream {
                    // The stream shows only what comes next: the guest may have said it was ready
                    // while nobody watched (a remote libvirtd that restarted). Its console log says
                    // what came before; without one, the only way to know is to watch a boot.
                    history = await consoleHistory(m, session)
                    if history == nil {
                        progress.update(name, "restarting", detail: "never seen ready, and its console history cannot be read")
                        try await Blocking.run {
                            try ErrorWithContext.wrap("stopping domain \(m.domainName) on \(m.host.name)") { try d.destroy() }
                        }
                        record(name) { $0.action = "restart" }
                        return try await boot(d, rm, session)
                    }
                }
                // Its boot was not watched from the start: no stall check; the whole log is read.
                let w = watcher(for: rm, stallCheck: false)
                w.start(domain: d, source: source)
                progress.update(name, "waiting for cloud-init", detail: source.summary)
                if let history { w.scanHistory(history) }
                return w
            }
        } catch {
            record(name) { $0.error = "\(error)"; $0.state = "failed" }
            progress.finish(name, "failed", failed: true, detail: "\(error)")
            return nil
        }
    }

    /// What a machine's console log on its host holds so far; nil when its host keeps none
    /// nestlab can read (a remote URI with options, see `DomainRenderer.consoleLogPath`).
    private func consoleHistory(_ m: Machine, _ session: HostSession) async -> Data? {
        guard let log = DomainRenderer.consoleLogPath(m, lab: s.lab.name) else { return nil }
        return try? await Blocking.run { try session.consoleHistory(path: log) }
    }

    private func watcher(for rm: RenderedMachine, stallCheck: Bool = true) -> ConsoleWatcher {
        let name = rm.machine.name
        let policy = StallPolicy(silence: options.bootStallSeconds, maxResets: options.bootStallResets) { [progress] message in
            progress.note(message)  // also goes to the lab log
        }
        return ConsoleWatcher(machine: name, expectedInstance: rm.seed.instanceID, logFile: s.state.consoleLog(name),
                              stallPolicy: stallCheck && options.bootStallSeconds > 0 ? policy : nil) { [progress] phase, status, detail in
            progress.update(name, "\(phase): \(status)", detail: detail)
        }
    }

    private func create(_ rm: RenderedMachine, _ session: HostSession) async throws -> ConsoleWatcher? {
        let m = rm.machine
        let lab = s.lab.name
        let poolName = Lab.poolName(lab: lab)
        let poolPath = Lab.poolPath(lab: lab, host: m.host)
        progress.update(m.name, "creating overlay")
        var overlayXML = rm.overlay
        var backingPath = rm.base.disk.path
        let golden = options.goldenBacking[m.name]
        if let golden {
            backingPath = golden
            overlayXML = StorageRenderer.overlay(name: m.overlayVolume, capacity: m.disk,
                                                 backing: VolumeRef(pool: poolName, name: "", path: golden, identity: ""), backingFormat: .qcow2)
        }
        let made = try await Blocking.run { [overlayXML, backingPath, golden] in
            let pool = try session.connection.storagePool(named: poolName)
            return try session.ensureOverlay(pool: pool, xml: overlayXML, name: m.overlayVolume, backingPath: backingPath,
                                             backingFormat: golden == nil ? rm.base.format.rawValue : "qcow2")
        }
        if made { count() }
        try checkInterrupt()
        progress.update(m.name, "writing seed")
        let iso = try NoCloudSeed(userData: rm.seed.userData, metaData: rm.seed.metaData, networkConfig: rm.seed.networkConfig).image()
        let seed = try await Blocking.run {
            let pool = try session.connection.storagePool(named: poolName)
            // The seed carries the node's secrets: 0600 on every host.
            return try session.ensureVolume(pool: pool, poolPath: poolPath, name: rm.seedVolume, content: VolumeContent(data: iso.bytes),
                                            mode: "0600").outcome
        }
        if case .replaced(let why) = seed { noteReplaced(rm.seedVolume, host: m.host.name, why: why) }
        if seed != .present { count() }
        try checkInterrupt()
        progress.update(m.name, "defining domain")
        let d = try await Blocking.run {
            try ErrorWithContext.wrap("defining domain \(m.domainName) on \(m.host.name)") {
                try session.connection.defineDomain(xml: rm.domain.render())
            }
        }
        count()
        // Seeds of earlier specs of this machine are not needed any more.
        try await Blocking.run {
            let pool = try session.connection.storagePool(named: poolName)
            for v in try pool.listAllVolumes() where v.name.hasPrefix("\(lab)-\(m.name)-seed-") && v.name != rm.seedVolume {
                try? v.delete()
            }
        }
        try checkInterrupt()
        return try await boot(d, rm, session)
    }

    /// Starts a defined domain, once its host's boot gate lets it, and watches its console.
    private func boot(_ d: Domain, _ rm: RenderedMachine, _ session: HostSession) async throws -> ConsoleWatcher? {
        let m = rm.machine
        let gate = options.wait ? bootGate(for: rm, session) : nil
        let weight = bootWeight(rm)
        if let gate, !gate.tryAcquire(weight, machine: m.name) {
            progress.update(m.name, "waiting to boot",
                            detail: "\(gate.waitReason(machine: m.name)) on \(m.host.name) (--boot-limit \(options.bootLimit))")
            guard await gate.acquire(weight, machine: m.name, stop: { Interruption.shared.isRequested }) else { try checkInterrupt(); return nil }
        }
        progress.update(m.name, "starting")
        let source = consoleSource(m, from: .end)
        do {
            try await Blocking.run { try ErrorWithContext.wrap("starting domain \(m.domainName) on \(m.host.name)") { try d.create() } }
        } catch {
            gate?.release(weight)
            throw error
        }
        record(m.name) { $0.state = "running" }
        guard options.wait else {
            progress.finish(m.name, "started")
            return nil
        }
        let w = watcher(for: rm)
        w.start(domain: d, source: source)
        progress.update(m.name, "booting", detail: source.summary)
        if let gate {
            // The share goes back once the guest is ready, has failed, or has timed out.
            let timeout = options.readyTimeout
            Task { _ = await w.wait(timeout: timeout); gate.release(weight) }
        }
        return w
    }

    enum ConsolePosition { case start, end }

    /// Where to read a machine's console: on a local host whose console log nestlab may read,
    /// that log (from its start, or from its current end for a boot about to begin: it is
    /// appended to across boots); otherwise libvirt's console stream.
    /// `NESTLAB_CONSOLE=stream` reads the stream on a local host too (to measure the difference,
    /// and to exercise the remote hosts' way on a local one).
    private func consoleSource(_ m: Machine, from position: ConsolePosition) -> ConsoleWatcher.Source {
        guard ProcessInfo.processInfo.environment["NESTLAB_CONSOLE"] != "stream",
              m.host.isLocal, let path = DomainRenderer.consoleLogPath(m, lab: s.lab.name),
              access((path as NSString).deletingLastPathComponent, R_OK | X_OK) == 0
        else { return .stream }
        var st = stat()
        if stat(path, &st) == 0 {
            guard access(path, R_OK) == 0 else { return .stream }
            return .logFile(path: path, offset: position == .end ? UInt64(st.st_size) : 0)
        }
        return .logFile(path: path, offset: 0)
    }

    /// The host's boot gate for this machine, or nil when it may start at once.
    private func bootGate(for rm: RenderedMachine, _ session: HostSession) -> BootGate? {
        guard !clusterMembers.contains(rm.machine.name) else { return nil }
        switch options.bootLimit {
        case .none:
            return nil
        case .auto:
            guard rm.machine.accel == .tcg else { return nil }
        case .count:
            break
        }
        let host = rm.machine.host.name
        if let g = lock.withLock({ gates[host] }) { return g }
        // Asked once per host, outside the engine's lock (a libvirt call).
        let capacity: Int
        if case .count(let n) = options.bootLimit {
            capacity = n
        } else {
            capacity = (try? session.connection.nodeInfo().cpus) ?? 1
        }
        return lock.withLock {
            if let g = gates[host] { return g }  // another machine of this host got here first
            let g = BootGate(capacity: capacity)
            gates[host] = g
            return g
        }
    }

    /// vCPUs under `auto` (they compete for the host's CPUs), one machine under a count.
    private func bootWeight(_ rm: RenderedMachine) -> Int {
        if case .count = options.bootLimit { return 1 }
        return max(1, rm.machine.vcpus)
    }

    // MARK: readiness

    private func waitForReady(_ watchers: [String: ConsoleWatcher]) async {
        await withTaskGroup(of: Void.self) { group in
            for (name, w) in watchers {
                group.addTask { [self] in
                    let outcome = await w.wait(timeout: options.readyTimeout)
                    await self.settle(name, w, outcome)
                }
            }
            if !watchers.isEmpty {
                Interruption.shared.install { for w in watchers.values { w.cancel() } }
                // Interrupted already (say, while a VM waited for its turn to boot): stop waiting now.
                if Interruption.shared.isRequested { for w in watchers.values { w.cancel() } }
            }
        }
    }

    /// Runs the node scripts on the clusters' bare-metal hosts over SSH, all at once.
    private func bootstrapHosts() async {
        let nodes = s.clusters.flatMap { c in
            c.nodes.compactMap { n -> (ClusterNode, LabHost)? in if case .host(let h) = n.kind { return (n, h) } else { return nil } }
        }
        guard options.only == nil, !nodes.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for (n, h) in nodes {
                let key = "host:\(h.name)"
                lock.withLock {
                    results[key] = UpReport.MachineResult(name: key, host: h.name, action: "bootstrap", state: "bare metal",
                                                          address: n.address, ready: nil, instance: nil)
                }
                group.addTask { [self] in
                    progress.update(key, "copying node scripts over ssh", detail: h.ssh ?? "")
                    do {
                        let o = try await BareMetal.run(node: n.name, target: h.ssh ?? h.name, files: n.bootstrap.files,
                                                        command: n.bootstrap.entryCommand, log: s.state.log, knownHosts: s.state.knownHosts) { [progress] phase, status, detail in
                            progress.update(key, "\(phase): \(status)", detail: detail)
                        }
                        if o.ok {
                            record(key) { $0.ready = true }
                            progress.finish(key, "bootstrapped")
                        } else {
                            let what = "node script phase '\(o.failedPhase ?? "?")' failed" + (o.detail.map { ": \($0)" } ?? "")
                            record(key) { $0.ready = false; $0.error = what; $0.failedPhase = o.failedPhase; $0.consoleTail = o.tail }
                            progress.finish(key, "failed", failed: true, detail: what)
                        }
                    } catch {
                        record(key) { $0.ready = false; $0.error = "\(error)" }
                        progress.finish(key, "failed", failed: true, detail: "\(error)")
                    }
                }
            }
        }
    }

    /// Once every VM of a cluster finished its bootstrap, its API server and nodes must come Ready.
    private func waitForClusters() async {
        await withTaskGroup(of: UpReport.ClusterResult?.self) { group in
            for c in s.clusters {
                let vmNames = c.nodes.map { n -> String in if case .host(let h) = n.kind { return "host:\(h.name)" } else { return n.name } }
                let vmsOK = lock.withLock { vmNames.allSatisfy { results[$0]?.ready == true || (results[$0] == nil && options.only != nil) } }
                guard vmsOK else {
                    lock.withLock {
                        clusterResults.append(UpReport.ClusterResult(name: c.cluster.name, apiServer: c.apiServer, ready: false, nodes: [],
                                                                     error: "not checked: a node's bootstrap failed (see the machines)"))
                    }
                    continue
                }
                let key = "cluster \(c.cluster.name)"
                group.addTask { [s, options, progress] in
                    progress.update(key, "waiting for the API server", detail: c.apiServer)
                    do {
                        let r = try await ClusterReadiness.wait(
                            cluster: c.cluster.name, apiServer: c.apiServer, expectedNodes: c.nodes.map(\.name),
                            credentials: .lab(s.state, cluster: c.cluster.name), timeout: options.clusterTimeout
                        ) { line in progress.update(key, line) }
                        progress.finish(key, "ready", detail: "\(r.nodes.count) node(s) Ready")
                        return UpReport.ClusterResult(name: c.cluster.name, apiServer: c.apiServer, ready: true, nodes: r.nodes)
                    } catch {
                        progress.finish(key, "not ready", failed: true, detail: "\(error)")
                        var nodes: [ClusterReadiness.NodeState] = []
                        if case ReadinessError.timedOut(_, _, _, _, let stuck) = error { nodes = stuck }
                        return UpReport.ClusterResult(name: c.cluster.name, apiServer: c.apiServer, ready: false, nodes: nodes,
                                                      error: "\(error)")
                    }
                }
            }
            for await r in group { if let r { lock.withLock { clusterResults.append(r) } } }
        }
    }

    private func settle(_ name: String, _ w: ConsoleWatcher, _ outcome: ReadyOutcome) async {
        guard let rm = s.rendered.machine(named: name), let session = s.sessions[rm.machine.host.name] else { return }
        switch outcome {
        case .ready(let iid):
            // Record readiness in libvirt, so later runs and `status` know without reading the console.
            let meta = LabMetadata.withReady(DomainRenderer.metadata(.init(machine: rm.machine, lab: s.lab.name, base: rm.base,
                                                                          seedVolume: rm.seedVolume, spec: rm.spec)), instance: iid)
            do {
                try await Blocking.run {
                    try ErrorWithContext.wrap("recording readiness of \(rm.machine.domainName) in its metadata") {
                        let d = try session.connection.domain(named: rm.machine.domainName)
                        try d.setMetadata(meta.unprefixed().render(), key: NestlabXMLNS.key, uri: NestlabXMLNS.uri, flags: [.live, .config])
                    }
                }
            } catch {
                // The guest is ready either way; later runs just look at its console again.
                progress.note("warning: \(name): \(error)")
            }
            record(name) { $0.ready = true }
            progress.finish(name, "ready", detail: rm.machine.primaryAddress?.description ?? "")
        case .failed(let code, let phase, let detail):
            let what = phase.map { "node script phase '\($0)' failed" + (detail.map { ": \($0)" } ?? "") }
                ?? (code == 2 ? "cloud-init finished without a result (no /run/cloud-init/result.json in the guest)"
                    : "cloud-init reported an error (its errors are in /run/cloud-init/result.json in the guest)")
            record(name) { $0.ready = false; $0.error = what; $0.failedPhase = phase; $0.consoleTail = w.tail }
            progress.finish(name, "failed", failed: true, detail: what)
        case .kernelPanic(let line):
            record(name) { $0.ready = false; $0.error = "guest kernel panic: \(line)"; $0.consoleTail = w.tail }
            progress.finish(name, "kernel panic", failed: true)
        case .timedOut:
            let what = Interruption.shared.isRequested ? "interrupted while waiting for cloud-init"
                : "no readiness report within \(Int(options.readyTimeout))s"
            record(name) { $0.ready = false; $0.error = what; $0.consoleTail = w.tail }
            progress.finish(name, "timed out", failed: true, detail: what)
        case .bootStalled(let line, let silence, let resets):
            let what = "the guest kernel stopped during boot: nothing on the console for \(silence)s before it started init"
                + (resets > 0 ? ", also after \(resets) reset(s)" : "") + " (last line: \(line))"
            record(name) { $0.ready = false; $0.error = what; $0.consoleTail = w.tail }
            progress.finish(name, "boot stalled", failed: true, detail: what)
        case .consoleUnavailable(let why):
            let host = rm.machine.host
            let what = "cannot read the console on host '\(host.name)' (\(host.libvirt)) to see readiness: \(why)"
            record(name) { $0.ready = nil; $0.error = what }
            progress.finish(name, "console unavailable", failed: true, detail: what)
        }
    }

    private func makeReport(_ plans: [MachinePlan], started: Date) -> UpReport {
        lock.withLock {
            let ms = plans.compactMap { results[$0.rendered.machine.name] } + results.keys.filter { $0.hasPrefix("host:") }.sorted().compactMap { results[$0] }
            let changed = created > 0 || plans.contains { if case .unchanged(true) = $0.action { return false } else { return true } }
            let ok = ms.allSatisfy { $0.error == nil && ($0.drift ?? []).isEmpty } && ms.count >= plans.count
            return UpReport(lab: s.lab.name, changed: changed, machines: ms, networksCreated: networksCreated, imagesPlaced: imagesPlaced,
                            volumesReplaced: volumesReplaced, seconds: Date().timeIntervalSince(started),
                            warnings: s.warnings.map(\.description), ok: ok)
        }
    }
}
