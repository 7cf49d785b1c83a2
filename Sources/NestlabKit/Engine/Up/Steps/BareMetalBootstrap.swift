import Foundation
import NestlabCore

/// Runs the node scripts on the clusters' bare-metal hosts over SSH, all at once, and records
/// each as a `host:NAME` row.
struct BareMetalBootstrap {
    let context: UpContext

    func run() async {
        let s = context.s
        let nodes = s.clusters.flatMap { c in
            c.nodes.compactMap { n -> (ClusterNode, LabHost)? in
                if case .host(let h) = n.kind { return (n, h) } else { return nil }
            }
        }
        guard context.options.only == nil, !nodes.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for (n, h) in nodes {
                let key = "host:\(h.name)"
                context.ledger.withLock {
                    $0.results[key] = UpReport.MachineResult(
                        name: key, host: h.name, action: "bootstrap", state: .bareMetal,
                        address: n.address, ready: nil, instance: nil)
                }
                group.addTask { await bootstrap(n, h, key: key) }
            }
        }
    }

    private func bootstrap(_ n: ClusterNode, _ h: LabHost, key: String) async {
        let s = context.s
        let progress = context.progress
        progress.update(key, "copying node scripts over ssh", detail: h.ssh ?? "")
        do {
            let o = try await BareMetal.run(
                node: n.name, target: h.ssh ?? h.name, files: n.bootstrap.files,
                command: n.bootstrap.entryCommand, log: s.state.log, knownHosts: s.state.knownHosts
            ) { phase, status, detail in
                progress.update(key, "\(phase): \(status)", detail: detail)
            }
            if o.ok {
                context.record(key) { $0.ready = true }
                progress.finish(key, "bootstrapped")
            } else {
                let what = "node script phase '\(o.failedPhase ?? "?")' failed" + (o.detail.map { ": \($0)" } ?? "")
                context.record(key) {
                    $0.ready = false
                    $0.error = what
                    $0.failedPhase = o.failedPhase
                    $0.consoleTail = o.tail
                }
                progress.finish(key, "failed", failed: true, detail: what)
            }
        } catch {
            context.record(key) {
                $0.ready = false
                $0.error = "\(error)"
            }
            progress.finish(key, "failed", failed: true, detail: "\(error)")
        }
    }
}
