import Curl
import Foundation
import NestlabCore

/// Waits for a cluster's API server and nodes over HTTPS, with nestlab's own admin
/// client certificate and the cluster CA it made (no kubectl, no kubeconfig parsing).
public enum ClusterReadiness {
    public struct NodeState: Sendable, Codable, Hashable {
        public var name: String
        public var ready: Bool
        /// The Ready condition's reason and message, or why the node is not listed yet.
        public var detail: String
    }

    public struct Result: Sendable, Codable {
        public var cluster: String
        public var apiServer: String
        public var nodes: [NodeState]
        public var seconds: Double
    }

    public struct Credentials: Sendable {
        public var caFile: String
        public var certificateFile: String
        public var keyFile: String

        public init(caFile: String, certificateFile: String, keyFile: String) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }

        /// The files `LabSecrets` keeps for a cluster (ca.crt, admin.crt, admin.key, the key 0600).
        public static func lab(_ state: LabState, cluster: String) -> Credentials {
            let d = state.pki(cluster)
            return Credentials(
                caFile: d.appendingPathComponent("ca.crt").path,
                certificateFile: d.appendingPathComponent("admin.crt").path,
                keyFile: d.appendingPathComponent("admin.key").path)
        }
    }

    /// Polls `/readyz`, then `/api/v1/nodes` until every expected node is Ready.
    ///
    /// - Parameter onProgress: called with a short status line whenever it changes.
    public static func wait(
        cluster: String, apiServer: String, expectedNodes: [String], credentials: Credentials,
        timeout: TimeInterval, interval: TimeInterval = 5,
        onProgress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Result {
        var config = HTTPSClient.Configuration(
            caFile: credentials.caFile, clientCertificate: credentials.certificateFile,
            clientKey: credentials.keyFile)
        config.connectTimeout = .seconds(5)
        config.timeout = .seconds(15)
        config.proxy = .none  // the API server is on the lab network, never behind the user's proxy
        let client = HTTPSClient(config)
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        var lastProblem = "no answer yet"
        var lastLine = ""
        var nodes: [NodeState] = expectedNodes.map { NodeState(name: $0, ready: false, detail: "not registered yet") }
        func say(_ s: String) {
            if s != lastLine {
                lastLine = s
                onProgress(s)
            }
        }

        while Date() < deadline {
            do {
                let ready = try await client.get(URL(string: "\(apiServer)/readyz")!)
                if ready.status != 200 {
                    lastProblem = "/readyz answered \(ready.status): \(ready.text.prefix(200))"
                    say("API server not ready (\(ready.status))")
                } else {
                    let list = try await client.get(URL(string: "\(apiServer)/api/v1/nodes")!)
                    guard list.status == 200 else {
                        lastProblem = "/api/v1/nodes answered \(list.status): \(list.text.prefix(200))"
                        throw ReadinessError.unexpected(lastProblem)
                    }
                    nodes = try parseNodes(list.body, expected: expectedNodes)
                    let readyCount = nodes.filter(\.ready).count
                    say(
                        "API ready; nodes Ready \(readyCount)/\(expectedNodes.count)"
                            + (readyCount < expectedNodes.count
                                ? " (waiting for \(nodes.filter { !$0.ready }.map(\.name).joined(separator: ", ")))"
                                : ""))
                    if readyCount == expectedNodes.count {
                        return Result(
                            cluster: cluster, apiServer: apiServer, nodes: nodes,
                            seconds: Date().timeIntervalSince(started))
                    }
                    lastProblem =
                        "nodes not Ready: "
                        + nodes.filter { !$0.ready }.map { "\($0.name) (\($0.detail))" }.joined(separator: "; ")
                }
            } catch let e as CurlError {
                // Certificates that cannot work will not start working: stop at once.
                if case .transfer(let f) = e,
                    [
                        .serverCertificateUntrusted, .caFileUnusable, .clientCertificateRejected,
                        .clientCertificateUnusable, .clientCertificateRequired,
                    ].contains(f.reason)
                {
                    throw ReadinessError.tls(cluster: cluster, apiServer: apiServer, "\(e)")
                }
                lastProblem = "\(e)"
                say("waiting for the API server (\(shortReason(e)))")
            }
            if Interruption.shared.isRequested { throw Interrupted() }
            try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
        throw ReadinessError.timedOut(
            cluster: cluster, apiServer: apiServer, seconds: Int(timeout), lastProblem: lastProblem,
            notReady: nodes.filter { !$0.ready })
    }

    static func shortReason(_ e: CurlError) -> String {
        if case .transfer(let f) = e { return "\(f.reason)" }
        return "\(e)"
    }

    /// Reads `NodeList` JSON: each expected node's Ready condition.
    static func parseNodes(_ body: Data, expected: [String]) throws -> [NodeState] {
        guard let obj = try JSONSerialization.jsonObject(with: body) as? [String: Any],
            let items = obj["items"] as? [[String: Any]]
        else {
            throw ReadinessError.unexpected("the node list is not a Kubernetes NodeList")
        }
        var seen: [String: NodeState] = [:]
        for item in items {
            guard let name = (item["metadata"] as? [String: Any])?["name"] as? String else { continue }
            let conditions = ((item["status"] as? [String: Any])?["conditions"] as? [[String: Any]]) ?? []
            let ready = conditions.first { $0["type"] as? String == "Ready" }
            let ok = ready?["status"] as? String == "True"
            let detail =
                ready.map { "\($0["reason"] as? String ?? "?"): \($0["message"] as? String ?? "")" }
                ?? "no Ready condition yet"
            seen[name] = NodeState(name: name, ready: ok, detail: detail)
        }
        return expected.map {
            seen[$0] ?? NodeState(name: $0, ready: false, detail: "not registered with the API server")
        }
    }
}
