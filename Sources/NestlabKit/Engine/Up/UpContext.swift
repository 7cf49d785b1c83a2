import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// What the steps of `up` share: the session (one parse of the topology, the hosts' connections,
/// the rendered lab), the options, the plan, and the ledger of what was done. Concurrent tasks of
/// a step write the ledger and the hosts' boot gates through Mutexes; nothing else is mutable.
final class UpContext: Sendable {
    let s: LabSession
    let options: UpOptions
    let progress: ProgressView
    let plan: LabPlan
    /// The machines this run converges (all, or `rebuild --machine`'s).
    let selected: [MachinePlan]
    /// VMs that belong to a cluster: they boot together (a control plane waits for its workers).
    let clusterMembers: Set<String>
    let ledger = Mutex(UpLedger())
    private let gates = Mutex<[String: BootGate]>([:])
    private let mirrors = Mutex<[ArtifactMirror]>([])

    init(session: LabSession, options: UpOptions, progress: ProgressView, plan: LabPlan) {
        s = session
        self.options = options
        self.progress = progress
        self.plan = plan
        selected = plan.machines.filter { options.only == nil || options.only!.contains($0.rendered.machine.name) }
        clusterMembers = Set(
            session.clusters.flatMap { c in
                c.nodes.compactMap { n -> String? in if case .host = n.kind { return nil } else { return n.name } }
            })
    }

    // MARK: the ledger

    func count() { ledger.withLock { $0.created += 1 } }

    func record(_ name: String, _ update: (inout UpReport.MachineResult) -> Void) {
        ledger.withLock { $0.record(name, update) }
    }

    func checkInterrupt() throws {
        if Interruption.shared.isRequested { throw UpError.interrupted(created: ledger.withLock { $0.created }) }
    }

    /// Records a volume placed or replaced on a host, and says so when it was replaced.
    func recordPlacement(_ outcome: PlacementOutcome, volume: String, host: String) {
        switch outcome {
        case .present:
            return
        case .placed:
            ledger.withLock {
                $0.imagesPlaced.append("\(host):\(volume)")
                $0.created += 1
            }
        case .replaced(let why):
            noteReplaced(volume, host: host, why: why)
            ledger.withLock {
                $0.imagesPlaced.append("\(host):\(volume)")
                $0.created += 1
            }
        }
    }

    /// Says that a volume had the right name but not the right content, and lists it in the report.
    func noteReplaced(_ volume: String, host: String, why: String) {
        progress.note("host \(host): volume \(volume) was not what nestlab placed there (\(why)): replaced")
        ledger.withLock { $0.volumesReplaced.append("\(host):\(volume): \(why)") }
    }

    // MARK: the artifact mirror

    func keep(_ mirror: ArtifactMirror) { mirrors.withLock { $0.append(mirror) } }

    func stopMirrors() {
        for m in mirrors.withLock({ list in
            defer { list = [] }
            return list
        }) { m.stop() }
    }

    // MARK: boot gates

    /// The host's boot gate for this machine, or nil when it may start at once.
    func bootGate(for rm: RenderedMachine, _ session: HostSession) -> BootGate? {
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
        if let g = gates.withLock({ $0[host] }) { return g }
        // Asked once per host, outside the lock (a libvirt call).
        let capacity: Int
        if case .count(let n) = options.bootLimit {
            capacity = n
        } else {
            capacity = (try? session.connection.nodeInfo().cpus) ?? 1
        }
        return gates.withLock { gates in
            if let g = gates[host] { return g }  // another machine of this host got here first
            let g = BootGate(capacity: capacity)
            gates[host] = g
            return g
        }
    }

    /// vCPUs under `auto` (they compete for the host's CPUs), one machine under a count.
    func bootWeight(_ rm: RenderedMachine) -> Int {
        if case .count = options.bootLimit { return 1 }
        return max(1, rm.machine.vcpus)
    }

    // MARK: consoles

    func watcher(for rm: RenderedMachine, stallCheck: Bool = true) -> ConsoleWatcher {
        let name = rm.machine.name
        let policy = StallPolicy(silence: options.bootStallSeconds, maxResets: options.bootStallResets) {
            [progress] message in
            progress.note(message)  // also goes to the lab log
        }
        return ConsoleWatcher(
            machine: name, expectedInstance: rm.seed.instanceID, logFile: s.state.consoleLog(name),
            stallPolicy: stallCheck && options.bootStallSeconds > 0 ? policy : nil
        ) { [progress] phase, status, detail in
            progress.update(name, "\(phase): \(status)", detail: detail)
        }
    }

    enum ConsolePosition { case start, end }

    /// Where to read a machine's console: on a local host whose console log nestlab may read,
    /// that log (from its start, or from its current end for a boot about to begin: it is
    /// appended to across boots); otherwise libvirt's console stream.
    /// `NESTLAB_CONSOLE=stream` reads the stream on a local host too (to measure the difference,
    /// and to exercise the remote hosts' way on a local one).
    func consoleSource(_ m: Machine, from position: ConsolePosition) -> ConsoleWatcher.Source {
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

    /// What a machine's console log on its host holds so far; nil when its host keeps none
    /// nestlab can read (a remote URI with options, see `DomainRenderer.consoleLogPath`).
    func consoleHistory(_ m: Machine, _ session: HostSession) async -> Data? {
        guard let log = DomainRenderer.consoleLogPath(m, lab: s.lab.name) else { return nil }
        return try? await Blocking.run { try session.consoleHistory(path: log) }
    }

    // MARK: the report

    func report(started: Date) -> UpReport {
        ledger.withLock { l in
            let plans = selected
            let ms =
                plans.compactMap { l.results[$0.rendered.machine.name] }
                + l.results.keys.filter { $0.hasPrefix("host:") }.sorted().compactMap { l.results[$0] }
            let changed =
                l.created > 0
                || plans.contains { if case .unchanged(true) = $0.action { return false } else { return true } }
            let ok = ms.allSatisfy { $0.error == nil && ($0.drift ?? []).isEmpty } && ms.count >= plans.count
            var r = UpReport(
                lab: s.lab.name, changed: changed, machines: ms, networksCreated: l.networksCreated,
                imagesPlaced: l.imagesPlaced, volumesReplaced: l.volumesReplaced,
                seconds: Date().timeIntervalSince(started), warnings: s.warnings.map(\.description), ok: ok)
            r.clusters = l.clusterResults
            if r.clusters.contains(where: { !$0.ready }) { r.ok = false }
            return r
        }
    }
}
