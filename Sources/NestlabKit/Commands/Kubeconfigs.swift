import Foundation
import NestlabCore

/// Admin kubeconfigs: the lab's own client certificate (O=system:masters), signed by the
/// cluster CA nestlab made, pointing at the control plane's lab address.
public enum Kubeconfigs {
    /// Writes `kubeconfig-CLUSTER` (0600) for every cluster of the session.
    @discardableResult
    public static func writeAll(_ s: LabSession) throws -> [String: URL] {
        var out: [String: URL] = [:]
        for c in s.clusters {
            guard let sec = s.secrets.clusters[c.cluster.name] else { continue }
            let kc = try Kubeconfig(
                clusterName: c.cluster.name, server: c.apiServer, ca: sec.ca, userName: "nestlab-admin",
                credential: sec.admin)
            let url = s.state.kubeconfig(c.cluster.name)
            try kc.write(to: url)
            out[c.cluster.name] = url
        }
        return out
    }
}
