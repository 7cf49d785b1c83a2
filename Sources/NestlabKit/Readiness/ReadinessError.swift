import Curl
import Foundation
import NestlabCore

public enum ReadinessError: Error, CustomStringConvertible {
    case tls(cluster: String, apiServer: String, String)
    case timedOut(
        cluster: String, apiServer: String, seconds: Int, lastProblem: String, notReady: [ClusterReadiness.NodeState])
    case unexpected(String)

    public var description: String {
        switch self {
        case .tls(let c, let api, let e):
            return "cluster \(c): cannot talk to \(api) with the lab's CA and admin certificate: \(e)"
        case .timedOut(let c, let api, let s, let last, let nodes):
            var out = "cluster \(c) was not ready within \(s)s at \(api): \(last)"
            if !nodes.isEmpty {
                out += "\n  stuck: " + nodes.map { "\($0.name): \($0.detail)" }.joined(separator: "\n  stuck: ")
            }
            return out
        case .unexpected(let m):
            return m
        }
    }
}
