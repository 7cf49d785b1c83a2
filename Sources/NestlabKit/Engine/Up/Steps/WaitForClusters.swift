import Foundation
import NestlabCore

/// Once every node of a cluster finished its bootstrap, its API server and nodes must come
/// Ready; all clusters at once.
struct WaitForClusters: UpStep {
    let name = "wait for clusters"

    func run(_ context: UpContext) async throws {
        let s = context.s
        let options = context.options
        let progress = context.progress
        await withTaskGroup(of: UpReport.ClusterResult?.self) { group in
            for c in s.clusters {
                let nodeRows = c.nodes.map { n -> String in
                    if case .host(let h) = n.kind { return "host:\(h.name)" } else { return n.name }
                }
                let nodesOK = context.ledger.withLock { l in
                    nodeRows.allSatisfy {
                        l.results[$0]?.ready == true || (l.results[$0] == nil && options.only != nil)
                    }
                }
                guard nodesOK else {
                    context.ledger.withLock {
                        $0.clusterResults.append(
                            UpReport.ClusterResult(
                                name: c.cluster.name, apiServer: c.apiServer, ready: false, nodes: [],
                                error: "not checked: a node's bootstrap failed (see the machines)"))
                    }
                    continue
                }
                group.addTask { await wait(for: c, s, options, progress) }
            }
            for await r in group {
                if let r { context.ledger.withLock { $0.clusterResults.append(r) } }
            }
        }
    }

    private func wait(for c: PlannedCluster, _ s: LabSession, _ options: UpOptions, _ progress: ProgressView) async
        -> UpReport.ClusterResult
    {
        let key = "cluster \(c.cluster.name)"
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
            return UpReport.ClusterResult(
                name: c.cluster.name, apiServer: c.apiServer, ready: false, nodes: nodes, error: "\(error)")
        }
    }
}
