import Foundation
import Libvirt
import NestlabCore

/// One machine brought to its desired state, as its plan says: created (overlay, seed, domain,
/// start), started, recreated after drift, or found running and watched again. Returns a console
/// watcher when its readiness must be awaited. Errors end up in its row, never thrown.
struct MachineConvergence {
    let context: UpContext
    let plan: MachinePlan

    var rm: RenderedMachine { plan.rendered }
    var m: Machine { plan.rendered.machine }
    var progress: ProgressView { context.progress }

    func run() async -> ConsoleWatcher? {
        let name = m.name
        context.ledger.withLock {
            $0.results[name] = UpReport.MachineResult(
                name: name, host: m.host.name, action: plan.action.label, state: .unknown,
                address: m.primaryAddress?.description, ready: nil, instance: rm.seed.instanceID)
        }
        guard let session = context.s.sessions[m.host.name] else { return nil }
        if Interruption.shared.isRequested { return nil }
        do {
            switch plan.action {
            case .foreign:
                return nil
            case .drift(let diff):
                return try await recreate(after: diff, session)
            case .create:
                return try await create(session)
            case .unchanged(let running):
                return try await keep(running: running, session)
            }
        } catch {
            context.record(name) {
                $0.error = "\(error)"
                $0.state = .failed
            }
            progress.finish(name, "failed", failed: true, detail: "\(error)")
            return nil
        }
    }

    /// A machine whose spec drifted: reported, or with `--recreate` removed and created afresh.
    private func recreate(after diff: [String], _ session: HostSession) async throws -> ConsoleWatcher? {
        let name = m.name
        guard context.options.recreate else {
            context.record(name) {
                $0.drift = diff
                $0.state = .drift
            }
            progress.finish(name, "differs from the topology", failed: true, detail: diff.joined(separator: ", "))
            return nil
        }
        progress.update(name, "recreating", detail: diff.joined(separator: ", "))
        let lab = context.s.lab.name
        let m = self.m
        try await Blocking.run {
            for (d, meta) in try session.labDomains(lab) where meta.machine == name { try session.removeDomain(d) }
            // A recreated machine starts from a fresh disk, like a new one.
            let pool = try session.connection.storagePool(named: Lab.poolName(lab: lab))
            try ErrorWithContext.wrap("deleting overlay \(m.overlayVolume) on \(m.host.name)") {
                try pool.volumeIfExists(named: m.overlayVolume)?.delete()
            }
        }
        context.record(name) {
            $0.action = "recreate"
            $0.drift = nil
        }
        return try await create(session)
    }

    /// A machine that matches the topology: started if it is not running (its seed written and
    /// put back first); watched again if it runs but was never seen ready (an interrupted run).
    private func keep(running: Bool, _ session: HostSession) async throws -> ConsoleWatcher? {
        let name = m.name
        let domainName = m.domainName
        if !running { return try await boot(try await reseeded(session), session) }
        context.record(name) { $0.state = .running }
        let seenReady = plan.readyInstance == rm.seed.instanceID
        if seenReady, plan.seedInPool {
            // Ready, but its seed was not dropped (an interrupted run, or an older nestlab).
            let seeds = SeedLifecycle(lab: context.s.lab.name, rm: rm, session: session)
            let instance = rm.seed.instanceID
            _ = try await Blocking.run { try seeds.drop(readyInstance: instance) }
        }
        if seenReady || !context.options.wait {
            context.record(name) { $0.ready = seenReady ? true : nil }
            progress.finish(name, "unchanged")
            return nil
        }
        let d = try await Blocking.run { try session.connection.domain(named: domainName) }
        let source = context.consoleSource(m, from: .start)
        var history: Data?
        if source == .stream {
            // The stream shows only what comes next: the guest may have said it was ready while
            // nobody watched (a remote libvirtd that restarted). Its console log says what came
            // before; without one, the only way to know is to watch a boot.
            history = await context.consoleHistory(m, session)
            if history == nil {
                progress.update(name, "restarting", detail: "never seen ready, and its console history cannot be read")
                let host = m.host.name
                try await Blocking.run {
                    try ErrorWithContext.wrap("stopping domain \(domainName) on \(host)") { try d.destroy() }
                }
                context.record(name) { $0.action = "restart" }
                return try await boot(try await reseeded(session), session)
            }
        }
        // Its boot was not watched from the start: no stall check; the whole log is read.
        let w = context.watcher(for: rm, stallCheck: false)
        w.start(domain: d, source: source)
        progress.update(name, "waiting for cloud-init", detail: source.summary)
        if let history { w.scanHistory(history) }
        return w
    }

    /// A defined machine about to boot again: its seed written again (it left the pool when the
    /// guest was last ready) and the domain defined again with the seed disk.
    private func reseeded(_ session: HostSession) async throws -> Domain {
        try await writeSeed(session)
        let seeds = SeedLifecycle(lab: context.s.lab.name, rm: rm, session: session)
        return try await Blocking.run { try seeds.restore() }
    }

    /// Overlay, seed and domain, then the boot.
    private func create(_ session: HostSession) async throws -> ConsoleWatcher? {
        try await createOverlay(session)
        try context.checkInterrupt()
        try await writeSeed(session)
        try context.checkInterrupt()
        progress.update(m.name, "defining domain")
        let (m, rm) = (self.m, self.rm)
        let lab = context.s.lab.name
        let d = try await Blocking.run {
            try ErrorWithContext.wrap("defining domain \(m.domainName) on \(m.host.name)") {
                try session.connection.defineDomain(xml: rm.domain.render())
            }
        }
        context.count()
        // Seeds of earlier specs of this machine are not needed any more.
        try await Blocking.run {
            let pool = try session.connection.storagePool(named: Lab.poolName(lab: lab))
            for v in try pool.listAllVolumes()
            where v.name.hasPrefix("\(lab)-\(m.name)-seed-") && v.name != rm.seedVolume {
                try? v.delete()
            }
        }
        try context.checkInterrupt()
        return try await boot(d, session)
    }

    /// The machine's overlay on its base image, or on its golden layer (`rebuild --from`).
    private func createOverlay(_ session: HostSession) async throws {
        let (m, rm) = (self.m, self.rm)
        let poolName = Lab.poolName(lab: context.s.lab.name)
        progress.update(m.name, "creating overlay")
        var overlayXML = rm.overlay
        var backingPath = rm.base.disk.path
        let golden = context.options.goldenBacking[m.name]
        if let golden {
            backingPath = golden
            overlayXML = StorageRenderer.overlay(
                name: m.overlayVolume, capacity: m.disk,
                backing: VolumeRef(pool: poolName, name: "", path: golden, identity: ""), backingFormat: .qcow2)
        }
        let made = try await Blocking.run { [overlayXML, backingPath] in
            let pool = try session.connection.storagePool(named: poolName)
            return try session.ensureOverlay(
                pool: pool, xml: overlayXML, name: m.overlayVolume, backingPath: backingPath,
                backingFormat: golden == nil ? rm.base.format.rawValue : "qcow2")
        }
        if made { context.count() }
    }

    /// The NoCloud seed, written 0600 (it carries the node's secrets) and verified.
    private func writeSeed(_ session: HostSession) async throws {
        let (m, rm) = (self.m, self.rm)
        let lab = context.s.lab.name
        progress.update(m.name, "writing seed")
        let iso = try NoCloudSeed(
            userData: rm.seed.userData, metaData: rm.seed.metaData, networkConfig: rm.seed.networkConfig
        ).image()
        let seed = try await Blocking.run {
            let pool = try session.connection.storagePool(named: Lab.poolName(lab: lab))
            return try session.ensureVolume(
                pool: pool, poolPath: Lab.poolPath(lab: lab, host: m.host), name: rm.seedVolume,
                content: VolumeContent(data: iso.bytes), mode: "0600"
            ).outcome
        }
        if case .replaced(let why) = seed { context.noteReplaced(rm.seedVolume, host: m.host.name, why: why) }
        if seed != .present { context.count() }
    }

    /// Starts a defined domain, once its host's boot gate lets it, and watches its console.
    private func boot(_ d: Domain, _ session: HostSession) async throws -> ConsoleWatcher? {
        let (m, rm) = (self.m, self.rm)
        let options = context.options
        let gate = options.wait ? context.bootGate(for: rm, session) : nil
        let weight = context.bootWeight(rm)
        if let gate, !gate.tryAcquire(weight, machine: m.name) {
            progress.update(
                m.name, "waiting to boot",
                detail: "\(gate.waitReason(machine: m.name)) on \(m.host.name) (--boot-limit \(options.bootLimit))")
            guard await gate.acquire(weight, machine: m.name, stop: { Interruption.shared.isRequested }) else {
                try context.checkInterrupt()
                return nil
            }
        }
        progress.update(m.name, "starting")
        let source = context.consoleSource(m, from: .end)
        do {
            try await Blocking.run {
                try ErrorWithContext.wrap("starting domain \(m.domainName) on \(m.host.name)") { try d.create() }
            }
        } catch {
            gate?.release(weight)
            throw error
        }
        context.record(m.name) { $0.state = .running }
        guard options.wait else {
            progress.finish(m.name, "started")
            return nil
        }
        let w = context.watcher(for: rm)
        w.start(domain: d, source: source)
        progress.update(m.name, "booting", detail: source.summary)
        if let gate {
            // The share goes back once the guest is ready, has failed, or has timed out.
            let timeout = options.readyTimeout
            Task {
                _ = await w.wait(timeout: timeout)
                gate.release(weight)
            }
        }
        return w
    }
}
