import Foundation
import NestlabCore

/// `nestlab up`: makes libvirt match the topology, as an ordered list of steps.
///
/// 1. refuse foreign domains: a domain with a machine's name that is not the lab's stops `up`
///    before anything is created;
/// 2. write access files: known_hosts, SSH config, access.json, before anything boots;
/// 3. prepare hosts: each host's pools, networks and base images, all hosts at once;
/// 4. serve the artifact mirror on the lab networks of clusters whose artifacts are cached;
/// 5. converge machines: per host, at most `--parallel` at once, hosts side by side (create
///    overlay, seed, define, start behind the host's boot gate; or start, recreate, re-watch);
/// 6. wait for nodes: the guests' readiness reports and the bare-metal bootstraps, all at once;
/// 7. wait for clusters: each cluster's API server and nodes.
///
/// Steps 6 and 7 run only when `up` waits (not with `--no-wait`).
public final class UpEngine: Sendable {
    let s: LabSession
    let options: UpOptions
    let progress: ProgressView

    public init(session: LabSession, options: UpOptions, progress: ProgressView) {
        s = session
        self.options = options
        self.progress = progress
    }

    static func pipeline(_ options: UpOptions) -> [any UpStep] {
        var steps: [any UpStep] = [
            RefuseForeignDomains(), WriteAccessFiles(), PrepareHosts(), ServeArtifactMirror(),
            ConvergeMachines(),
        ]
        if options.wait { steps += [WaitForNodes(), WaitForClusters()] }
        return steps
    }

    public func run() async throws -> UpReport {
        let started = Date()
        let plan = try await Blocking.run { [s] in try Planner.plan(s) }
        let context = UpContext(session: s, options: options, progress: progress, plan: plan)
        defer { context.stopMirrors() }
        let steps = Self.pipeline(options)
        for (index, step) in steps.enumerated() {
            progress.step(index + 1, of: steps.count, step.name)
            try await step.run(context)
        }
        progress.close()
        let report = context.report(started: started)
        try context.checkInterrupt()
        if !report.ok { throw UpError.failed(report, reasons: Self.reasons(report)) }
        return report
    }

    /// What went wrong, one line per cluster or machine.
    static func reasons(_ report: UpReport) -> [String] {
        var reasons: [String] = []
        for c in report.clusters where !c.ready {
            reasons.append("cluster \(c.name): \(c.error ?? "not ready")")
        }
        for m in report.machines {
            if let e = m.error { reasons.append("\(m.name): \(e)") }
            if let d = m.drift, !d.isEmpty {
                reasons.append(
                    "\(m.name) differs from the topology: \(d.joined(separator: ", ")); run `nestlab up --recreate` to recreate it"
                )
            }
        }
        return reasons
    }
}
