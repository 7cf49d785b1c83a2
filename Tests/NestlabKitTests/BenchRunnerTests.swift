import Foundation
import Testing

@testable import NestlabCore
@testable import NestlabKit

/// Issue 19, machines mode on this host: the real tools (Debian's iperf3, redis, stress-ng,
/// PostgreSQL's pgbench, fio) run through the real OpenSSH client and a real sshd on 127.0.0.1,
/// exactly as on a bare-metal host given by `--ssh`.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && getuid() == 0,
        "needs root and openssh-server (Tests/Scripts/setup-host installs it)"))
struct BenchRunnerTests {
    @Test func allFiveBenchmarksOnAnSSHHostGiveValidSamples() async throws {
        // What an earlier, interrupted run may have left is not this run's.
        let before = Set(
            try FileManager.default.contentsOfDirectory(atPath: "/var/tmp").filter { $0.hasPrefix("nestlab-bench") })
        let sshd = try await Blocking.run { try BareMetalTests.startSSHD() }
        defer {
            sshd.stop()
            try? FileManager.default.removeItem(at: sshd.dir)
        }
        let results = sshd.dir.appendingPathComponent("results")
        // The sshd's key, checked strictly (as a user's known_hosts would hold it).
        let port = sshd.options[1]
        let hostKey = try String(contentsOf: sshd.dir.appendingPathComponent("hostkey.pub"), encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        let known = sshd.dir.appendingPathComponent("known")
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(to: known, atomically: true, encoding: .utf8)

        var r = BenchCommands.Request(environment: "baremetal")
        r.sshTargets = ["root@127.0.0.1"]
        r.sshOptions = [
            "-p", port, "-i", sshd.dir.appendingPathComponent("client").path, "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=\(known.path)",
        ]
        r.repetitions = 2
        r.duration = 1
        r.resultsDir = results.path
        let params = sshd.dir.appendingPathComponent("params.yaml")
        try """
        redis: {requests: 5000, clients: 10}
        stress-ng: {cpus: 1}
        pgbench: {scale: 1, clients: 2, threads: 1}
        fio: {size: 16M, iodepth: 4}
        """.write(to: params, atomically: true, encoding: .utf8)
        r.paramsFile = params.path
        let (machines, options) = try BenchCommands.prepare(r)
        let targets = machines.targets
        #expect(machines.server == nil)
        #expect(targets.map(\.name) == ["root@127.0.0.1"] && targets[0].isRoot)
        #expect(
            options.parameters.redisRequests == 5000 && options.parameters.duration == 1
                && options.parameters.fioSize == "16M")

        let report = try await BenchRunner.run(targets: targets, options: options, progress: ProgressView(mode: .quiet))
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.runs == 15, "5 benchmarks × (warm-up + 2)")
        let text = try String(contentsOf: results.appendingPathComponent("results.jsonl"), encoding: .utf8)
        let samples = try ResultsFile.parse(text, file: "results.jsonl")
        #expect(samples.count == report.samples && !samples.isEmpty)
        // Every benchmark, both repetitions (not the warm-up), labelled, with its raw file.
        for b in BenchParameters.benchmarks {
            let mine = samples.filter { $0.benchmark == b }
            #expect(Set(mine.map(\.repetition)) == [1, 2], "\(b): \(mine.map(\.repetition))")
            #expect(
                mine.allSatisfy {
                    $0.environment == "baremetal" && $0.runtime == "none" && $0.machine == "root@127.0.0.1"
                })
            #expect(mine.allSatisfy { $0.value.isFinite && $0.end >= $0.start })
            for s in mine {
                let raw = results.appendingPathComponent(s.raw)
                #expect(FileManager.default.fileExists(atPath: raw.path), "\(s.raw)")
            }
        }
        #expect(samples.contains { $0.benchmark == "iperf3" && $0.metric == "throughput" && $0.value > 0 })
        #expect(samples.contains { $0.benchmark == "pgbench" && $0.metric == "tps" && $0.parameters["clients"] == "2" })
        #expect(
            FileManager.default.fileExists(
                atPath: results.appendingPathComponent("raw/baremetal/root@127.0.0.1/fio-warmup.out").path))
        // Every line is valid against the documented schema (the real validator).
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("docs/results.schema.json")
        for (i, line) in text.split(separator: "\n").enumerated() {
            let f = sshd.dir.appendingPathComponent("line-\(i).json")
            try String(line).write(to: f, atomically: true, encoding: .utf8)
            let v = try ChildProcess.capture([
                "python3", "-W", "ignore::DeprecationWarning", "-m", "jsonschema", "-i", f.path, schema.path,
            ])
            #expect(v.status == 0, "line \(i + 1): \(v.stderr)\(v.stdout)")
        }
        // Nothing left running or lying around on the machine.
        for pattern in ["redis-server 127.0.0.1", "iperf3 -s -D -B 127.0.0.1", "postgres -D /var/tmp/nestlab-bench"] {
            let r = try ChildProcess.capture(["pgrep", "-f", pattern])
            #expect(r.status == 1, "still running: \(pattern) \(r.stdout)")
        }
        let leftovers = try Set(
            FileManager.default.contentsOfDirectory(atPath: "/var/tmp").filter { $0.hasPrefix("nestlab-bench") }
        )
        .subtracting(before)
        #expect(leftovers.isEmpty, "left behind in /var/tmp by this run: \(leftovers)")
    }

    /// The host's first global IPv4 address: a client that connects to it is not on loopback.
    static func hostAddress() throws -> String {
        let r = try ChildProcess.capture(["ip", "-4", "-o", "addr", "show", "scope", "global"])
        let field = r.stdout.split(separator: "\n").first?.split(separator: " ").drop { $0 != "inet" }.dropFirst().first
        return try #require(field.map { String($0.split(separator: "/")[0]) }, "no global IPv4 address: \(r.stdout)")
    }

    /// A server on another machine (`--server`, and the server pod in Kubernetes mode): the
    /// servers listen on the network, the client setup starts none, the client measures across
    /// it, and postgres lets in the client's address only. Here both are this host, reached
    /// over ssh, and the client connects to its non-loopback address (which initdb's default
    /// pg_hba does not trust: only BENCH_ALLOW lets it in).
    @Test func aServerElsewhereServesTheClientAcrossTheNetwork() async throws {
        let sshd = try await Blocking.run { try BareMetalTests.startSSHD() }
        defer {
            sshd.stop()
            try? FileManager.default.removeItem(at: sshd.dir)
        }
        let port = sshd.options[1]
        let hostKey = try String(contentsOf: sshd.dir.appendingPathComponent("hostkey.pub"), encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        let known = sshd.dir.appendingPathComponent("known")
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(to: known, atomically: true, encoding: .utf8)
        let address = try Self.hostAddress()
        let ssh = [
            "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-p", port, "-i",
            sshd.dir.appendingPathComponent("client").path,
            "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=\(known.path)", "root@127.0.0.1",
        ]
        let client = BenchRunner.Target(name: "client", ssh: ssh, isRoot: true, address: address)
        let server = BenchRunner.Target(name: "server", ssh: ssh, isRoot: true, address: address)
        var options = BenchRunner.Options(environment: "split", resultsDir: sshd.dir.appendingPathComponent("results"))
        options.benchmarks = ["iperf3", "redis", "pgbench"]
        options.repetitions = 1
        options.warmup = false
        options.parameters = try BenchParameters.load(
            yaml: "duration: 1\nredis: {requests: 2000, clients: 4}\npgbench: {scale: 1, clients: 2, threads: 1}",
            file: "p")
        let report = try await BenchRunner.run(
            targets: [client], server: server, options: options, progress: ProgressView(mode: .quiet))
        #expect(report.failures.isEmpty, "\(report.failures)")
        let samples = try ResultsFile.parse(
            String(contentsOf: sshd.dir.appendingPathComponent("results/results.jsonl"), encoding: .utf8), file: "r")
        #expect(Set(samples.map(\.benchmark)) == ["iperf3", "redis", "pgbench"])
        #expect(samples.allSatisfy { $0.machine == "client" })
        // iperf3 says where it connected: the server's address, not loopback.
        let iperf = try String(
            contentsOf: sshd.dir.appendingPathComponent("results/raw/split/client/iperf3-1.out"), encoding: .utf8)
        #expect(
            iperf.contains("\"remote_host\":\t\"\(address)\"") || iperf.contains("\"remote_host\": \"\(address)\""),
            "\(iperf.prefix(600))")

        // A client at an address the server was not told about is refused by postgres.
        let stranger = BenchRunner.Target(name: "stranger", ssh: ssh, isRoot: true, address: "192.0.2.7")
        options.benchmarks = ["pgbench"]
        let refused = try await BenchRunner.run(
            targets: [stranger], server: server, options: options, progress: ProgressView(mode: .quiet))
        #expect(
            refused.failures.contains { $0.benchmark == "pgbench" && $0.message.contains("no pg_hba.conf entry") },
            "\(refused.failures) \(refused.samples)")
        for pattern in ["redis-server 0.0.0.0", "iperf3 -s -D -B 0.0.0.0", "postgres -D /var/tmp/nestlab-bench"] {
            let r = try ChildProcess.capture(["pgrep", "-f", pattern])
            #expect(r.status == 1, "still running: \(pattern) \(r.stdout)")
        }
    }

    /// Kubernetes mode runs the script with `kubectl exec POD -- ARGV`, which hands the words on
    /// as they are (no remote shell joins them). The same path, with `env` in place of kubectl
    /// exec, on this host: parameters with blanks and quotes arrive intact.
    @Test func aTransportWithoutARemoteShellGetsTheWordsAsTheyAre() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bench-argv-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let local = BenchRunner.Target(name: "local", ssh: ["env"], isRoot: true, remoteShell: false)
        var options = BenchRunner.Options(environment: "argv", resultsDir: dir)
        options.benchmarks = ["stress-ng"]
        options.repetitions = 1
        options.parameters = try BenchParameters.load(yaml: "duration: 1\nstress-ng: {cpus: 1}", file: "p")
        let report = try await BenchRunner.run(targets: [local], options: options, progress: ProgressView(mode: .quiet))
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.runs == 2 && report.samples > 0)
        let echoed = try await BenchRunner.execute(
            local, ["printf", "%s|", "a b", "'c'", "$HOME"], root: true, timeout: 10)
        #expect(echoed.stdout == "a b|'c'|$HOME|")
    }

    /// A server nestlab does not run (urunc's unikernel in Kubernetes mode) is measured at its
    /// address and port: here a real redis-server started by the test, which the client's setup
    /// leaves alone and its teardown does not stop.
    @Test func aServerNestlabDoesNotRunIsMeasuredAtItsEndpoint() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bench-endpoint-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 40_000...49_999)
        let redis = try ChildProcess.capture(
            [
                "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "yes", "--pidfile", dir.appendingPathComponent("r.pid").path,
                "--dir", dir.path,
            ], timeout: 30)
        try #require(redis.status == 0, "\(redis.stderr)")
        defer { _ = try? ChildProcess.capture(["redis-cli", "-p", "\(port)", "shutdown", "nosave"], timeout: 30) }
        var up = false
        for _ in 0..<100 where !up {
            up =
                (try? ChildProcess.capture(["redis-cli", "-p", "\(port)", "ping"], timeout: 5))?.stdout.contains("PONG")
                == true
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(up)
        var options = BenchRunner.Options(environment: "unikernel", resultsDir: dir.appendingPathComponent("results"))
        options.benchmarks = ["redis"]
        options.repetitions = 1
        options.warmup = false
        options.parameters = try BenchParameters.load(yaml: "redis: {requests: 2000, clients: 4}", file: "p")
        var run = try BenchRunner.Run(options: options, machines: 1, progress: ProgressView(mode: .quiet))
        let local = BenchRunner.Target(name: "client", ssh: ["env"], isRoot: true, remoteShell: false)
        let place = BenchRunner.RunPlace.new()
        #expect(await BenchRunner.copyScript(local, place, benchmarks: ["redis"], &run))
        try await BenchRunner.measure(
            "redis", on: local, place, server: nil, endpoint: ("127.0.0.1", port), runtime: "urunc", &run)
        _ = try? await BenchRunner.execute(local, ["rm", "-f", place.script], root: true, timeout: 10)
        #expect(run.failures.isEmpty, "\(run.failures)")
        #expect(run.samples > 0)
        let text = try String(contentsOf: dir.appendingPathComponent("results/results.jsonl"), encoding: .utf8)
        #expect(
            text.contains("\"runtime\":\"urunc\"")
                && text.contains("\"raw\":\"raw/unikernel/urunc/client/redis-1.out\""), "\(text.prefix(400))")
        // The server is still there: the client's teardown did not touch it.
        let ping = try ChildProcess.capture(["redis-cli", "-p", "\(port)", "ping"], timeout: 5)
        #expect(ping.stdout.contains("PONG"))
    }

    @Test func badInputIsRefusedBeforeAnythingRuns() throws {
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "no error"
            } catch let e as UsageError { return e.description } catch { return "other: \(error)" }
        }
        var r = BenchCommands.Request(environment: "Bare Metal")
        r.sshTargets = ["root@h"]
        #expect(message { try BenchCommands.prepare(r) }.hasPrefix("--environment 'Bare Metal' must be"))
        r.environment = "baremetal"
        r.benchmarks = ["iperf3", "sysbench"]
        #expect(
            message { try BenchCommands.prepare(r) }
                == "unknown benchmark 'sysbench'; the benchmarks: iperf3, redis, stress-ng, pgbench, fio")
        r.benchmarks = nil
        r.repetitions = 0
        #expect(message { try BenchCommands.prepare(r) } == "--repeat must be from 1 to 100")
        r.repetitions = 5
        r.sshTargets = ["-oProxyCommand=evil"]
        #expect(message { try BenchCommands.prepare(r) }.contains("is not an SSH destination"))
        r.sshTargets = []
        #expect(message { try BenchCommands.prepare(r) }.hasPrefix("give a lab"))
    }

    @Test func parameterFilesAreCheckedWithTheirLine() throws {
        func error(_ yaml: String) -> String {
            do {
                _ = try BenchParameters.load(yaml: yaml, file: "p.yaml")
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error("duration: 10\nfio: {size: 2G, rw: randread}") == "no error")
        #expect(
            error("duration: 10\nfoo: 1")
                == "p.yaml:2: unknown parameter 'foo'; valid: duration, iperf3, redis, stress-ng, pgbench, fio")
        #expect(
            error("fio:\n  rw: sideways")
                == "p.yaml:2: fio.rw must be one of read, write, randread, randwrite, rw, readwrite, randrw, not 'sideways'"
        )
        #expect(
            error("fio: {size: \"1G; rm -rf /\"}").hasPrefix("p.yaml:1: fio.size must be a size such as 512M or 1G"))
        #expect(
            error("duration: ١٠").hasPrefix("p.yaml:1: duration must be a whole number from 1 to 86400"),
            "Arabic-Indic digits are not a number here")
        #expect(error("duration: 99999999999999999999").hasPrefix("p.yaml:1: duration must be a whole number"))
        #expect(
            error("redis: {clients: 0}").hasPrefix("p.yaml:1: redis.clients must be a whole number from 1 to 10000"))
        #expect(
            error("redis: {threads: 2}")
                == "p.yaml:1: unknown parameter 'redis.threads'; valid: redis.requests, redis.clients, redis.pipeline")
        #expect(error("[1, 2]").hasPrefix("p.yaml:1: expected a mapping"))
        let p = try BenchParameters.load(yaml: "duration: 10\npgbench: {clients: 8}", file: "p.yaml")
        #expect(p.duration == 10 && p.pgbenchClients == 8 && p.pgbenchScale == 10)
        #expect(
            p.values(for: "pgbench").map { "\($0.env)=\($0.value)" } == [
                "BENCH_DURATION=10", "PGBENCH_SCALE=10", "PGBENCH_CLIENTS=8", "PGBENCH_THREADS=2",
            ])
    }

    /// A server that writes its log as it exits (redis-server opens its log file for every line)
    /// must not make teardown fail: it waited for nothing and `rm -rf` met the new file
    /// ("Directory not empty"; seen in CI on a TCG guest). The stand-in server here daemonizes
    /// like redis-server and iperf3 -D, and takes 1 s to exit, writing into the folder meanwhile.
    @Test(arguments: ["redis", "iperf3"])
    func teardownWaitsForAServerThatWritesAsItExits(bench: String) throws {
        let script = try NodeScripts.benchScript()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-td-\(UUID().uuidString)")
        let dir = root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let node = root.appendingPathComponent("bench-node.sh")
        try script.write(to: node)
        let server = root.appendingPathComponent("server.sh")
        try """
        #!/bin/sh
        sh -c 'trap "for i in 1 2 3 4 5 6 7 8 9 10; do echo bye >>\\"$0/\(bench).log\\"; sleep 0.1; done; exit 0" TERM
        while :; do sleep 0.05; done' "$1" </dev/null >/dev/null 2>&1 &
        echo $! >"$1/\(bench).pid"

        """.write(to: server, atomically: true, encoding: .utf8)
        let launched = try ChildProcess.capture(["/bin/sh", server.path, dir.path])
        try #require(launched.status == 0, "\(launched.stderr)")
        let pidText = try String(contentsOf: dir.appendingPathComponent("\(bench).pid"), encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(pid, SIGKILL) }
        usleep(200_000)  // its trap is set
        let r = try ChildProcess.capture(
            ["/bin/sh", node.path, "teardown", bench], environment: ["BENCH_DIR": dir.path, "PATH": "/usr/bin:/bin"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        // "teardown leaves nothing running" (the script's promise): the server is gone by now,
        // and nothing of the run's folder is left.
        #expect(kill(pid, 0) != 0 && errno == ESRCH, "teardown returned while the \(bench) server still ran")
        #expect(!FileManager.default.fileExists(atPath: dir.path), "teardown left \(dir.path)")
    }

    @Test func theNodeScriptIsShellcheckClean() throws {
        let script = try NodeScripts.benchScript()
        let f = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bench-node-\(UUID().uuidString.prefix(8)).sh")
        try script.write(to: f)
        defer { try? FileManager.default.removeItem(at: f) }
        let r = try ChildProcess.capture(["shellcheck", "-s", "sh", f.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }
}
