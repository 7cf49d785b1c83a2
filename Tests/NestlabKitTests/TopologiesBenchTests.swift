import Foundation
import NestlabCore
import Testing
@testable import NestlabKit

/// The benchmark manifests under topologies/bench and the example runner.
@Suite("benchmark manifests and runner")
struct TopologiesBenchTests {
    typealias S = HandoffTestSupport

    static let benches = ["iperf3", "redis", "stress-ng", "pgbench", "fio"]
    static let hasYAML = HandoffTestSupport.python(has: "yaml")

    /// Splits `run --dry-run` output into its files and parses each with PyYAML, as JSON.
    static let splitDryRun = #"""
        import json, sys, yaml
        out = []
        for chunk in sys.stdin.read().split("# nestlab-bench ")[1:]:
            head, body = chunk.split("\n", 1)
            meta = dict(kv.split("=", 1) for kv in head.split())
            meta["docs"] = [d for d in yaml.safe_load_all(body) if d is not None]
            out.append(meta)
        json.dump(out, sys.stdout)
        """#

    /// Each manifest file parsed with PyYAML, as JSON: file name → documents.
    static let parseFiles = #"""
        import glob, json, os, sys, yaml
        out = {}
        for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
            with open(f) as fh:
                out[os.path.basename(f)] = [d for d in yaml.safe_load_all(fh) if d is not None]
        json.dump(out, sys.stdout)
        """#

    struct Rendered {
        var runtime: String
        var bench: String
        var file: String
        var docs: [[String: Any]]
    }

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// The pod spec of a Pod or a Job.
    static func podSpec(_ doc: [String: Any]) -> [String: Any]? {
        let spec = doc["spec"] as? [String: Any]
        switch doc["kind"] as? String {
        case "Pod": return spec
        case "Job": return (spec?["template"] as? [String: Any])?["spec"] as? [String: Any]
        default: return nil
        }
    }

    static func container(_ doc: [String: Any]) -> [String: Any]? {
        (podSpec(doc)?["containers"] as? [[String: Any]])?.first
    }

    /// Writes the builder's testbed.json for a shipped topology and returns its path.
    static func testbedFile(_ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("testbed.json")
        try S.testbed(name).write(to: url)
        return url
    }

    static func dryRun(testbed: URL, args: [String] = [], env extra: [String: String] = [:]) throws -> (S.Output, [Rendered]) {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "NESTLAB_TESTBED": testbed.path]
        for (k, v) in extra { env[k] = v }
        let r = try S.run(["bash", S.runner.path, "--dry-run"] + args, environment: env)
        guard r.status == 0 else { return (r, []) }
        let parsed = try S.run(["python3", "-c", splitDryRun], stdin: Data(r.stdout.utf8))
        try #require(parsed.status == 0, "\(parsed.stderr)")
        let list = try #require(try json(parsed.stdout) as? [[String: Any]])
        return (r, list.map {
            Rendered(runtime: $0["runtime"] as? String ?? "", bench: $0["bench"] as? String ?? "", file: $0["file"] as? String ?? "",
                     docs: $0["docs"] as? [[String: Any]] ?? [])
        })
    }

    @Test("every manifest parses as YAML, and every pod has the runtime class and node placeholders",
          .enabled(if: TopologiesBenchTests.hasYAML))
    func manifests() throws {
        let r = try S.run(["python3", "-c", Self.parseFiles, S.bench.path])
        try #require(r.status == 0, "\(r.stderr)")
        let files = try #require(try Self.json(r.stdout) as? [String: [[String: Any]]])
        #expect(files.keys.sorted() == ["fio.job.yaml", "iperf3.job.yaml", "iperf3.server.yaml", "pgbench.job.yaml",
                                        "pgbench.server.yaml", "redis.job.yaml", "redis.server.yaml", "stress-ng.job.yaml"])
        for (file, docs) in files {
            let kinds = docs.map { $0["kind"] as? String ?? "?" }
            #expect(kinds == (file.hasSuffix(".server.yaml") ? ["Pod", "Service"] : ["Job"]), "\(file)")
            for doc in docs {
                let meta = doc["metadata"] as? [String: Any]
                #expect(meta?["namespace"] as? String == "${NAMESPACE}", "\(file)")
                guard let spec = Self.podSpec(doc) else { continue }
                // The pod under test runs with the runtime class; clients of servers may run elsewhere.
                let measured = file.hasSuffix(".server.yaml") || file == "stress-ng.job.yaml" || file == "fio.job.yaml"
                #expect(spec["runtimeClassName"] as? String == (measured ? "${RUNTIME_CLASS}" : "${CLIENT_RUNTIME_CLASS}"), "\(file)")
                let node = (spec["nodeSelector"] as? [String: Any])?["kubernetes.io/hostname"] as? String
                let expectedNode = file.hasSuffix(".server.yaml") ? "${SERVER_NODE}" : measured ? "${NODE}" : "${CLIENT_NODE}"
                #expect(node == expectedNode, "\(file)")
                #expect(spec["restartPolicy"] as? String == "Never", "\(file)")
                let res = Self.container(doc)?["resources"] as? [String: [String: String]]
                #expect(res?["requests"] == ["cpu": "${CPUS}", "memory": "${MEMORY}"], "\(file): Guaranteed QoS needs requests = limits")
                #expect(res?["limits"] == res?["requests"], "\(file)")
                if doc["kind"] as? String == "Job" {
                    let jspec = doc["spec"] as? [String: Any]
                    #expect(jspec?["backoffLimit"] as? Int == 0, "\(file): a failed benchmark must not be retried silently")
                    #expect(jspec?["activeDeadlineSeconds"] as? String == "${DEADLINE}", "\(file)")
                }
            }
        }
        for bench in Self.benches {
            let texts = try ["server", "job"].compactMap { part -> String? in
                let url = S.bench.appendingPathComponent("\(bench).\(part).yaml")
                return FileManager.default.fileExists(atPath: url.path) ? try String(contentsOf: url, encoding: .utf8) : nil
            }
            #expect(texts.joined().contains("runtimeClassName: ${RUNTIME_CLASS}"), "\(bench)")
        }
    }

    @Test("run --dry-run fills every placeholder for each runtime class of testbed.json",
          .enabled(if: TopologiesBenchTests.hasYAML))
    func dryRun() throws {
        let dir = try S.temporaryDirectory("dry")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (r, rendered) = try Self.dryRun(testbed: try Self.testbedFile("nested-mitigated", in: dir), env: ["BENCH_CPUS": "3"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("${"))

        let byRuntime = Dictionary(grouping: rendered, by: \.runtime)
        #expect(Set(byRuntime.keys) == ["runc", "kata-qemu", "urunc"])
        #expect(byRuntime["runc"]?.map(\.bench) == ["iperf3", "iperf3", "redis", "redis", "stress-ng", "pgbench", "pgbench", "fio"])
        #expect(byRuntime["kata-qemu"]?.map(\.file) == byRuntime["runc"]?.map(\.file))
        #expect(byRuntime["urunc"]?.map(\.file) == ["redis.server.yaml", "redis.job.yaml"])

        for f in rendered {
            for doc in f.docs {
                #expect((doc["metadata"] as? [String: Any])?["namespace"] as? String == "nestlab-bench")
                guard let spec = Self.podSpec(doc) else { continue }
                let rc = spec["runtimeClassName"] as? String
                switch (f.runtime, f.file) {
                // The default handler has no RuntimeClass object: the field is left out, not empty.
                case ("runc", _): #expect(!spec.keys.contains("runtimeClassName"), "runc pods use the node's default handler: \(f.file)")
                case ("kata-qemu", _): #expect(rc == "kata-qemu", "\(f.file)")
                case ("urunc", "redis.server.yaml"): #expect(rc == "urunc")
                case ("urunc", _): #expect(!spec.keys.contains("runtimeClassName"), "urunc's clients are ordinary containers: \(f.file)")
                default: Issue.record("unexpected \(f.runtime) \(f.file)")
                }
                let node = (spec["nodeSelector"] as? [String: Any])?["kubernetes.io/hostname"] as? String
                let expected = f.file.hasSuffix(".job.yaml") && f.bench != "stress-ng" && f.bench != "fio" ? "worker2" : "worker1"
                #expect(node == expected, "\(f.runtime) \(f.file)")
                let res = Self.container(doc)?["resources"] as? [String: [String: String]]
                #expect(res?["limits"]?["cpu"] == "3")
                #expect(res?["limits"]?["memory"] == "4Gi")
            }
        }
        let urunc = try #require(byRuntime["urunc"]?.first?.docs.first)
        #expect(Self.container(urunc)?["image"] as? String == "harbor.nbfc.io/nubificus/urunc/redis-hvt-rumprun-block:latest")
        #expect((Self.container(urunc)?["args"] as? [Any])?.isEmpty == true)
        let redis = try #require(byRuntime["runc"]?.first { $0.file == "redis.server.yaml" }?.docs.first)
        #expect(Self.container(redis)?["args"] as? [String] == ["--save", "", "--appendonly", "no"])
        #expect(Self.container(redis)?["image"] as? String == "docker.io/library/redis:7.4")

        #expect(r.stderr.contains("run: skip kubevirt/iperf3: kubevirt runs VirtualMachineInstances, not pods"))
        #expect(r.stderr.contains("run: skip urunc/fio: urunc runs unikernels, and there is no unikernel image of fio"))
        #expect(r.stderr.contains("run: skip urunc/iperf3: urunc needs a unikernel iperf3 server image: set URUNC_IPERF3_IMAGE"))
    }

    @Test("--runtime, --bench and environment overrides narrow and change the rendering", .enabled(if: TopologiesBenchTests.hasYAML))
    func filters() throws {
        let dir = try S.temporaryDirectory("dry-filter")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tb = try Self.testbedFile("single-host", in: dir)
        let (r, rendered) = try Self.dryRun(testbed: tb, args: ["--runtime", "kata-qemu", "--bench", "fio", "--namespace", "lab7"],
                                            env: ["FIO_IMAGE": "registry.local/fio:3.38", "BENCH_NODE": "worker-1",
                                                  "BENCH_DURATION": "20"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(rendered.map(\.file) == ["fio.job.yaml"])
        let job = try #require(rendered.first?.docs.first)
        #expect((job["metadata"] as? [String: Any])?["namespace"] as? String == "lab7")
        #expect(Self.container(job)?["image"] as? String == "registry.local/fio:3.38")
        #expect((Self.podSpec(job)?["nodeSelector"] as? [String: String]) == ["kubernetes.io/hostname": "worker-1"])
        #expect((job["spec"] as? [String: Any])?["activeDeadlineSeconds"] as? Int == 20 * 6 + 600)
        let script = try #require((Self.container(job)?["args"] as? [String])?.first)
        #expect(script.contains("runtime=20\n"))
    }

    @Test("the runner refuses bad input with exit 2 and a reason")
    func runnerErrors() throws {
        let dir = try S.temporaryDirectory("run-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tb = try Self.testbedFile("single-host", in: dir)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        func run(_ args: [String], _ env: [String: String]) throws -> S.Output {
            try S.run(["bash", S.runner.path] + args, environment: ["PATH": path].merging(env) { $1 })
        }
        let cases: [([String], [String: String], String)] = [
            (["--dry-run"], [:], "run: NESTLAB_TESTBED is not set"),
            (["--dry-run"], ["NESTLAB_TESTBED": dir.appendingPathComponent("none.json").path], "run: cannot read testbed"),
            (["--dry-run", "--bench", "sysbench"], ["NESTLAB_TESTBED": tb.path], "run: unknown benchmark 'sysbench'; one of: iperf3 redis stress-ng pgbench fio"),
            (["--dry-run", "--runtime", "gvisor"], ["NESTLAB_TESTBED": tb.path], "run: no runtime class 'gvisor' in cluster 'desk'"),
            (["--dry-run", "--cluster", "metal"], ["NESTLAB_TESTBED": tb.path], "run: no cluster 'metal' in"),
            (["--dry-run"], ["NESTLAB_TESTBED": tb.path, "BENCH_CPUS": "1.5"], "run: BENCH_CPUS must be a whole number of CPUs"),
            (["--frobnicate"], ["NESTLAB_TESTBED": tb.path], "run: unknown argument '--frobnicate'"),
        ]
        for (args, env, message) in cases {
            let r = try run(args, env)
            #expect(r.status == 2, "\(args) \(env)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
        var o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: tb)) as? [String: Any])
        o["schemaVersion"] = 2
        let v2 = dir.appendingPathComponent("v2.json")
        try JSONSerialization.data(withJSONObject: o).write(to: v2)
        let r = try run(["--dry-run"], ["NESTLAB_TESTBED": v2.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("has schemaVersion 2; this runner reads version 1"))

        // Without --dry-run it needs kubectl and a kubeconfig; the testbed's does not exist here.
        let live = try run([], ["NESTLAB_TESTBED": tb.path])
        #expect(live.status == 2)
        #expect(live.stderr.contains("no kubeconfig") || live.stderr.contains("kubectl is not installed"), "\(live.stderr)")
    }

    @Test("shellcheck passes on the runner and on every container script", .enabled(if: HandoffTestSupport.has("shellcheck")))
    func shellcheck() throws {
        let r = try S.run(["shellcheck", S.runner.path])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.isEmpty)

        guard Self.hasYAML else { return }
        let dir = try S.temporaryDirectory("sc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dry, rendered) = try Self.dryRun(testbed: try Self.testbedFile("single-host", in: dir), args: ["--runtime", "runc"])
        try #require(dry.status == 0, "\(dry.stderr)")
        for f in rendered {
            for doc in f.docs {
                guard let c = Self.container(doc), c["command"] as? [String] == ["/bin/sh", "-c"],
                      let script = (c["args"] as? [String])?.first else { continue }
                let file = dir.appendingPathComponent("\(f.bench).sh")
                try Data(script.utf8).write(to: file)
                let sc = try S.run(["shellcheck", "-s", "sh", file.path])
                #expect(sc.status == 0, "\(f.file): \(sc.stdout)")
            }
        }
    }
}
