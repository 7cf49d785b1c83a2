import Foundation
import NestlabCore

public enum KubeconfigCommand {
    /// `nestlab kubeconfig LAB [CLUSTER] [-o FILE]`: prints the kubeconfig, or writes it (0600).
    public static func run(lab: String, cluster: String?, output: String?) throws {
        let store = StateStore.default()
        let state = store.lab(lab)
        guard state.exists else {
            let known = store.labs()
            throw UsageError(
                "no lab '\(lab)' here"
                    + (known.isEmpty
                        ? " (no labs yet; `nestlab up FILE` makes one)" : "; labs: \(known.joined(separator: ", "))"))
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: state.dir.path)) ?? [])
            .filter { $0.hasPrefix("kubeconfig-") }.sorted()
        let clusters = files.map { String($0.dropFirst("kubeconfig-".count)) }
        let chosen: String
        if let cluster {
            guard clusters.contains(cluster) else {
                throw UsageError(
                    "lab '\(lab)' has no cluster '\(cluster)'"
                        + (clusters.isEmpty
                            ? " (it has no clusters)" : "; clusters: \(clusters.joined(separator: ", "))"))
            }
            chosen = cluster
        } else {
            guard clusters.count == 1 else {
                throw UsageError(
                    clusters.isEmpty
                        ? "lab '\(lab)' has no clusters (or `nestlab up` has not run yet)"
                        : "lab '\(lab)' has several clusters; name one: \(clusters.joined(separator: ", "))")
            }
            chosen = clusters[0]
        }
        let data = try Data(contentsOf: state.kubeconfig(chosen))
        if let output {
            try SecretFile.write(data, to: URL(fileURLWithPath: output))
            Console.err("wrote \(output) (mode 0600)")
        } else {
            Console.outRaw(data)
        }
    }
}
