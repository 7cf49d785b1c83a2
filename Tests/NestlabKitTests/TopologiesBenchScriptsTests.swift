import Foundation
import NestlabCore
import Testing
@testable import NestlabKit

/// Runs each benchmark Job's container script for real, on this machine, against local
/// servers, with the Debian packages of the same tools (iperf3, redis, stress-ng, fio,
/// postgresql). What the runner collects is what lies between the result markers, so
/// these tests check that those bytes are the JSON or CSV docs/handoff.md promises.
@Suite("benchmark job scripts", .serialized, .enabled(if: TopologiesBenchTests.hasYAML))
struct TopologiesBenchScriptsTests {
    typealias S = HandoffTestSupport

    struct Job {
        var script: String
        var env: [String: String]
    }

    /// The runc rendering of a benchmark's Job, with short runs.
    static func job(_ bench: String, env extra: [String: String] = [:]) throws -> Job {
        let dir = try S.temporaryDirectory("job-\(bench)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = ["BENCH_DURATION": "1", "BENCH_CPUS": "1", "REDIS_REQUESTS": "2000", "REDIS_CLIENTS": "4",
                   "PGBENCH_SCALE": "1", "PGBENCH_CLIENTS": "2", "FIO_SIZE": "8M", "FIO_DIRECT": "0", "STRESSNG_VM_BYTES": "32m"]
        for (k, v) in extra { env[k] = v }
        let (r, rendered) = try TopologiesBenchTests.dryRun(testbed: try TopologiesBenchTests.testbedFile("single-host", in: dir),
                                                            args: ["--runtime", "runc", "--bench", bench], env: env)
        try #require(r.status == 0, "\(r.stderr)")
        let doc = try #require(rendered.first { $0.file == "\(bench).job.yaml" }?.docs.first)
        let c = try #require(TopologiesBenchTests.container(doc))
        #expect(c["command"] as? [String] == ["/bin/sh", "-c"])
        let script = try #require((c["args"] as? [String])?.first)
        var jobEnv: [String: String] = [:]
        for e in c["env"] as? [[String: Any]] ?? [] {
            if let n = e["name"] as? String, let v = e["value"] as? String { jobEnv[n] = v }
        }
        return Job(script: script, env: jobEnv)
    }

    /// Runs a Job's script as its container would (`/bin/sh -c`), with some variables pointed at this machine.
    /// The scripts keep their files in `mktemp -d`, which a pod throws away with its container;
    /// here `TMPDIR` points at a directory of the test's own, removed afterwards.
    static func run(_ job: Job, overriding: [String: String]) throws -> (S.Output, String) {
        var env = job.env
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let tmp = try S.temporaryDirectory("job-tmp")
        defer { try? FileManager.default.removeItem(at: tmp) }
        env["TMPDIR"] = tmp.path
        for (k, v) in overriding { env[k] = v }
        let r = try S.run(["/bin/sh", "-c", job.script], environment: env)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        var result: [Substring] = []
        var inside = false
        for l in lines {
            if l == "NESTLAB-RESULT-END" { inside = false }
            if inside { result.append(l) }
            if l == "NESTLAB-RESULT-BEGIN" { inside = true }
        }
        return (r, result.joined(separator: "\n"))
    }

    static func freePort() -> Int { Int.random(in: 20000..<40000) }

    /// Starts a server process and waits until `ready` succeeds.
    static func start(_ argv: [String], ready: () throws -> Bool) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Up to 60 s: PostgreSQL's start on a loaded CI machine (other suites running) takes seconds.
        for _ in 0..<600 {
            if try ready() { return p }
            usleep(100_000)
        }
        stop(p)
        throw HandoffTestFailure("\(argv[0]) did not become ready")
    }

    /// SIGKILL: children of the test runner may inherit a mask that blocks SIGTERM.
    static func stop(_ p: Process) {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    static func listening(_ port: Int) -> Bool {
        guard let r = try? S.run(["ss", "-ltnH"]) else { return false }
        return r.stdout.contains(":\(port) ")
    }

    @Test("iperf3: the client prints iperf3's JSON report", .enabled(if: HandoffTestSupport.has("iperf3") && HandoffTestSupport.has("ss")))
    func iperf3() throws {
        let port = Self.freePort()
        let server = try Self.start(["iperf3", "-s", "-p", "\(port)"]) { Self.listening(port) }
        defer { Self.stop(server) }
        let (r, result) = try Self.run(try Self.job("iperf3"), overriding: ["SERVER": "127.0.0.1", "PORT": "\(port)"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
        let end = report["end"] as? [String: Any]
        let bps = (end?["sum_received"] as? [String: Any])?["bits_per_second"] as? Double
        #expect((bps ?? 0) > 0)
        let start = report["start"] as? [String: Any]
        #expect((start?["test_start"] as? [String: Any])?["duration"] as? Int == 1)
    }

    @Test("redis-benchmark: the client prints CSV with one row per test",
          .enabled(if: HandoffTestSupport.has("redis-server") && HandoffTestSupport.has("redis-benchmark")))
    func redis() throws {
        let port = Self.freePort()
        let server = try Self.start(["redis-server", "--port", "\(port)", "--save", "", "--appendonly", "no"]) {
            (try? S.run(["redis-cli", "-p", "\(port)", "ping"]).stdout) == "PONG\n"
        }
        defer { Self.stop(server) }
        let (r, result) = try Self.run(try Self.job("redis"), overriding: ["SERVER": "127.0.0.1", "PORT": "\(port)"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = result.split(separator: "\n")
        #expect(rows.first == #""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms""#)
        #expect(rows.dropFirst().map { $0.split(separator: ",")[0] } == [#""SET""#, #""GET""#, #""INCR""#, #""LPUSH""#, #""LPOP""#, #""SADD""#, #""HSET""#])
        for row in rows.dropFirst() {
            let rps = Double(row.split(separator: ",")[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            #expect((rps ?? 0) > 0, "\(row)")
        }
    }

    @Test("stress-ng: the job prints one YAML metrics document per run", .enabled(if: HandoffTestSupport.has("stress-ng")))
    func stressNG() throws {
        let (r, result) = try Self.run(try Self.job("stress-ng"), overriding: [:])
        #expect(r.status == 0, "\(r.stderr)")
        let parse = try S.run(["python3", "-c", """
            import json, sys, yaml
            docs = list(yaml.safe_load_all(sys.stdin))
            print(json.dumps([[m["stressor"] for m in d["metrics"]] for d in docs]))
            print(json.dumps([min(m["bogo-ops"] for m in d["metrics"]) for d in docs]))
            """], stdin: Data(result.utf8))
        #expect(parse.status == 0, "\(parse.stderr)")
        let lines = parse.stdout.split(separator: "\n")
        #expect(lines.first == #"[["cpu"], ["vm"], ["switch"]]"#)
        let ops = try #require(try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [Int])
        #expect(ops.count == 3 && ops.allSatisfy { $0 > 0 }, "\(ops)")
    }

    @Test("fio: the job prints fio's JSON report with the four phases", .enabled(if: HandoffTestSupport.has("fio")))
    func fio() throws {
        let data = try S.temporaryDirectory("fio-data")
        defer { try? FileManager.default.removeItem(at: data) }
        let (r, result) = try Self.run(try Self.job("fio"), overriding: ["DATA": data.path])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
        let jobs = try #require(report["jobs"] as? [[String: Any]])
        #expect(jobs.map { $0["jobname"] as? String } == ["randread-4k", "randwrite-4k", "read-1m", "write-1m"])
        let iops = jobs.enumerated().map { i, j in ((j[i % 2 == 0 ? "read" : "write"] as? [String: Any])?["iops"] as? Double) ?? 0 }
        #expect(iops.allSatisfy { $0 > 0 }, "\(iops)")
    }

    static var postgresBin: String? {
        let base = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return versions.sorted().reversed().map { "\(base)/\($0)/bin" }.first {
            FileManager.default.isExecutableFile(atPath: "\($0)/initdb") && FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl")
        }
    }

    /// Whether this sandbox lets root run programs as the postgres user (some container runtimes refuse setuid here).
    static var canRunAsPostgres: Bool {
        (try? S.run(["runuser", "-u", "postgres", "--", "/bin/true"]).status) == 0
    }

    @Test("pgbench: the job turns pgbench's summary into JSON",
          .enabled(if: getuid() == 0 && TopologiesBenchScriptsTests.postgresBin != nil && HandoffTestSupport.has("pgbench")
                   && HandoffTestSupport.has("runuser") && TopologiesBenchScriptsTests.canRunAsPostgres))
    func pgbench() throws {
        let bin = try #require(Self.postgresBin)
        let dir = try S.temporaryDirectory("pg")
        defer { try? FileManager.default.removeItem(at: dir) }
        // initdb refuses root; the database runs as the postgres user.
        _ = try S.run(["chown", "postgres", dir.path])
        let data = dir.appendingPathComponent("data").path
        let initdb = try S.run(["runuser", "-u", "postgres", "--", "\(bin)/initdb", "-D", data, "-A", "trust", "-U", "postgres"])
        try #require(initdb.status == 0, "\(initdb.stderr)")
        let port = Self.freePort()
        // In the foreground: a daemonized postmaster would keep Foundation's Process waiting.
        let server = try Self.start(["runuser", "-u", "postgres", "--", "\(bin)/postgres", "-D", data, "-p", "\(port)",
                                     "-k", dir.path, "-c", "listen_addresses=127.0.0.1"]) {
            (try? S.run(["\(bin)/pg_isready", "-q", "-h", "127.0.0.1", "-p", "\(port)"]).status) == 0
        }
        defer {
            _ = try? S.run(["runuser", "-u", "postgres", "--", "\(bin)/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
            Self.stop(server)
        }

        let (r, result) = try Self.run(try Self.job("pgbench"), overriding: ["PGHOST": "127.0.0.1", "PGPORT": "\(port)"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
        #expect(summary["tool"] as? String == "pgbench")
        #expect(summary["scalingFactor"] as? Int == 1)
        #expect(summary["clients"] as? Int == 2)
        #expect(summary["threads"] as? Int == 1)
        #expect(summary["durationSeconds"] as? Int == 1)
        #expect(summary["failedTransactions"] as? Int == 0)
        #expect(summary["queryMode"] as? String == "simple")
        #expect((summary["tps"] as? Double ?? 0) > 0)
        #expect((summary["transactions"] as? Int ?? 0) > 0)
        #expect((summary["latencyAverageMs"] as? Double ?? 0) > 0)
        #expect((summary["version"] as? String)?.first?.isNumber == true)
        // The raw summary goes to stderr (the Job log) for the record.
        #expect(r.stderr.contains("number of transactions actually processed: "))
    }
}

struct HandoffTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
