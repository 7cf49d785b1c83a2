import Foundation
import Libvirt
import NestlabCore

public enum HandoffCommand {
    /// Runs the topology's hand-off command with KUBECONFIG and NESTLAB_TESTBED; returns its exit code.
    public static func run(file: String, topology: Topology? = nil) async throws -> Int32 {
        let t = try topology ?? TopologyParser().load(path: file).0
        let state = StateStore.default().lab(t.name)
        guard let handoff = t.handoff else {
            throw UsageError(
                "\(file) has no handoff section; add handoff: {command: [./bench/run]} (see docs/handoff.md)")
        }
        guard FileManager.default.fileExists(atPath: state.testbed.path) else {
            throw UsageError("lab '\(t.name)' has no testbed.json yet; run `nestlab up \(file)` first")
        }
        let kubeconfigs = t.clusters.map { state.kubeconfig($0.name).path }.filter {
            FileManager.default.fileExists(atPath: $0)
        }
        let runner = HandoffRunner(
            handoff: handoff, topologyFile: file, kubeconfig: kubeconfigs.joined(separator: ":"),
            testbed: state.testbed, logFile: state.log)
        return try await runner.run()
    }
}
