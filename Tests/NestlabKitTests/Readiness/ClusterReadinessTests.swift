import Foundation
import Spawn
import Testing

@testable import NestlabKit

/// The cluster readiness client against a real TLS server on 127.0.0.1 that, like
/// kube-apiserver, requires a client certificate signed by the cluster CA.
///
/// Blocking helpers (openssl, starting the server) run through `Blocking.run`: parked on
/// Swift's cooperative threads they starved every other test suite running in parallel.
@Suite(.serialized) struct ClusterReadinessTests {
    /// A fake API server: /readyz and /api/v1/nodes, in one of three moods.
    static let server = #"""
        import http.server, json, ssl, sys
        mode, port_file, ca, cert, key = sys.argv[1:6]
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def reply(self, code, body):
                data = body.encode()
                self.send_response(code); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
            def do_GET(self):
                if self.path == "/readyz":
                    return self.reply(500 if mode == "never" else 200, "[-]etcd failed" if mode == "never" else "ok")
                if self.path == "/api/v1/nodes":
                    ready = "True" if mode == "ready" else "False"
                    nodes = [{"metadata": {"name": "cp"}, "status": {"conditions": [{"type": "Ready", "status": ready,
                              "reason": "KubeletReady" if ready == "True" else "KubeletNotReady",
                              "message": "container runtime network not ready: cni plugin not initialized" if ready == "False" else "ok"}]}}]
                    return self.reply(200, json.dumps({"kind": "NodeList", "items": nodes}))
                self.reply(404, "no")
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
        ctx.verify_mode = ssl.CERT_REQUIRED; ctx.load_verify_locations(ca)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        open(port_file, "w").write(str(httpd.server_address[1]))
        httpd.serve_forever()
        """#

    struct PKI {
        var dir: URL
        var ca: String, serverCert: String, serverKey: String, clientCert: String, clientKey: String, otherCA: String
    }

    static func sh(_ cmd: String, in dir: URL) throws {
        let r = try SpawnedProcess.run(["/bin/sh", "-ec", cmd], directory: dir.path)
        guard r.status == 0 else { throw ReadinessError.unexpected("openssl failed: \(cmd): \(r.errors)") }
    }

    /// One CA signs the server (SAN 127.0.0.1) and the admin client (O=system:masters); another CA is a stranger.
    static func pki() throws -> PKI {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-ready-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        try sh(
            """
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=kubernetes
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.crt -days 1 -subj /CN=other
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=kube-apiserver
            printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile san.ext
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout admin.key -out admin.csr -subj '/O=system:masters/CN=nestlab-admin'
            openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 1
            """, in: d)
        func p(_ n: String) -> String { d.appendingPathComponent(n).path }
        return PKI(
            dir: d, ca: p("ca.crt"), serverCert: p("server.crt"), serverKey: p("server.key"),
            clientCert: p("admin.crt"),
            clientKey: p("admin.key"), otherCA: p("other.crt"))
    }

    /// Starts the fake API server; returns its URL and the process.
    static func start(_ mode: String, _ pki: PKI) throws -> (String, SpawnedProcess) {
        let script = pki.dir.appendingPathComponent("apiserver.py")
        try server.write(to: script, atomically: true, encoding: .utf8)
        let portFile = pki.dir.appendingPathComponent("port-\(mode)")
        let p = try SpawnedProcess.start(
            ["python3", script.path, mode, portFile.path, pki.ca, pki.serverCert, pki.serverKey],
            stderr: .null)
        for _ in 0..<100 {
            if let s = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(s) {
                return ("https://127.0.0.1:\(port)", p)
            }
            usleep(50_000)
        }
        p.signal(SIGKILL)
        p.wait()
        throw ReadinessError.unexpected("the fake API server did not start")
    }

    @Test func readyClusterIsSeen() async throws {
        let pki = try await Blocking.run { try Self.pki() }
        let (url, p) = try await Blocking.run { try Self.start("ready", pki) }
        defer {
            p.signal(SIGKILL)
            p.wait()
            try? FileManager.default.removeItem(at: pki.dir)
        }
        let r = try await ClusterReadiness.wait(
            cluster: "k", apiServer: url, expectedNodes: ["cp"],
            credentials: .init(caFile: pki.ca, certificateFile: pki.clientCert, keyFile: pki.clientKey),
            timeout: 120, interval: 0.5)
        #expect(r.nodes == [.init(name: "cp", ready: true, detail: "KubeletReady: ok")])
    }

    @Test func wrongCAIsAClearErrorAtOnce() async throws {
        let pki = try await Blocking.run { try Self.pki() }
        let (url, p) = try await Blocking.run { try Self.start("ready", pki) }
        defer {
            p.signal(SIGKILL)
            p.wait()
            try? FileManager.default.removeItem(at: pki.dir)
        }
        let start = Date()
        do {
            _ = try await ClusterReadiness.wait(
                cluster: "k", apiServer: url, expectedNodes: ["cp"],
                credentials: .init(caFile: pki.otherCA, certificateFile: pki.clientCert, keyFile: pki.clientKey),
                timeout: 600, interval: 0.5)
            Issue.record("a server the CA does not vouch for must be refused")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cannot talk to \(url) with the lab's CA"), "\(text)")
            #expect(Date().timeIntervalSince(start) < 120, "a certificate problem must not wait for the timeout")
        }
    }

    @Test func missingClientCertificateIsReported() async throws {
        let pki = try await Blocking.run { try Self.pki() }
        let (url, p) = try await Blocking.run { try Self.start("ready", pki) }
        defer {
            p.signal(SIGKILL)
            p.wait()
            try? FileManager.default.removeItem(at: pki.dir)
        }
        do {
            _ = try await ClusterReadiness.wait(
                cluster: "k", apiServer: url, expectedNodes: ["cp"],
                credentials: .init(caFile: pki.ca, certificateFile: "", keyFile: ""),
                timeout: 120, interval: 0.5)
            Issue.record("without a client certificate the server must refuse")
        } catch {
            #expect("\(error)".contains("certificate"), "\(error)")
        }
    }

    @Test func neverReadyTimesOutWithADiagnosis() async throws {
        let pki = try await Blocking.run { try Self.pki() }
        let creds = ClusterReadiness.Credentials(
            caFile: pki.ca, certificateFile: pki.clientCert, keyFile: pki.clientKey)
        defer { try? FileManager.default.removeItem(at: pki.dir) }
        do {
            let (url, p) = try await Blocking.run { try Self.start("never", pki) }
            defer {
                p.signal(SIGKILL)
                p.wait()
            }
            _ = try await ClusterReadiness.wait(
                cluster: "k", apiServer: url, expectedNodes: ["cp"], credentials: creds, timeout: 2, interval: 0.5)
            Issue.record("must time out")
        } catch {
            #expect(
                "\(error)".contains("was not ready within 2s")
                    && "\(error)".contains("/readyz answered 500: [-]etcd failed"), "\(error)")
        }
        do {
            let (url, p) = try await Blocking.run { try Self.start("notready", pki) }
            defer {
                p.signal(SIGKILL)
                p.wait()
            }
            _ = try await ClusterReadiness.wait(
                cluster: "k", apiServer: url, expectedNodes: ["cp", "worker-0"], credentials: creds,
                timeout: 2, interval: 0.5)
            Issue.record("must time out")
        } catch {
            let text = "\(error)"
            #expect(text.contains("stuck: cp: KubeletNotReady: container runtime network not ready"), "\(text)")
            #expect(text.contains("stuck: worker-0: not registered with the API server"), "\(text)")
        }
    }
}
