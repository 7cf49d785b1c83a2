import Foundation
import NestlabCore

/// `nestlab bench`: the paper's benchmarks run on machines, each a warm-up (discarded) and
/// `repeat` measurements. A machine is reached over SSH (machines mode: a lab's machines, or
/// any host given by an SSH target) or with `kubectl exec` in a pod (Kubernetes mode,
/// `KubernetesBench`); both run the same `bench-node.sh` with the same parameters.
///
/// Per machine and benchmark: `bench-node.sh setup`, the runs, `teardown` (always, even after
/// a failure). iperf3, redis and pgbench have a server: on the measured machine itself by
/// default (127.0.0.1), or on a server machine when one is given (`--server`, and the server
/// pod in Kubernetes mode), so that the measurement crosses the network. Each run's stdout is
/// kept as a raw file (`raw/ENV/MACHINE/BENCH-N.out`), parsed (`BenchParsers`), and its
/// samples appended to `results.jsonl` at once, so a run that stops halfway keeps what it
/// measured. Machines run one after the other: machines measured at the same time on one
/// host would measure each other.
public enum BenchRunner {
    /// A machine to run on: how to reach it, and as whom.
    public struct Target: Sendable {
        public var name: String
        /// The command that runs a command there, up to and including the destination:
        /// `ssh … DESTINATION`, or `kubectl … exec -i POD --`.
        public var ssh: [String]
        /// Whether the login is root already (else commands run through `sudo -n`).
        public var isRoot: Bool
        /// Whether `ssh` hands its arguments to a remote shell that joins them (ssh: each word
        /// is quoted), or passes them on as they are (kubectl exec).
        public var remoteShell = true
        /// The address another machine reaches it at (a server's, for its clients).
        public var address: String?
        /// More `NAME=VALUE` for bench-node.sh there (BENCH_INSTALL=apt in a bare image).
        public var environment: [String] = []

        public init(name: String, ssh: [String], isRoot: Bool, remoteShell: Bool = true, address: String? = nil) {
            self.name = name
            self.ssh = ssh
            self.isRoot = isRoot
            self.remoteShell = remoteShell
            self.address = address
        }
    }

    /// The benchmarks that have a server (the others run on the measured machine alone).
    public static let withServer: Set<String> = ["iperf3", "redis", "pgbench"]

    public struct Options: Sendable {
        public var environment: String
        public var runtime = "none"
        public var benchmarks = BenchParameters.benchmarks
        public var repetitions = 5
        public var warmup = true
        public var parameters = BenchParameters()
        public var resultsDir: URL

        public init(environment: String, resultsDir: URL) {
            self.environment = environment
            self.resultsDir = resultsDir
        }
    }

    public struct Failure: Codable, Sendable {
        public var machine: String
        public var benchmark: String
        public var step: String
        public var message: String
    }

    public struct Report: Codable, Sendable {
        public var environment: String
        public var runtime: String
        public var results: String
        public var samples: Int
        public var runs: Int
        public var failures: [Failure]
        /// Benchmarks not run, and why (Kubernetes mode: a runtime that cannot run them).
        public var skipped: [Failure] = []
        public var seconds: Double
    }

    /// Where the node script and its files go on a machine: names of this run alone, so that a
    /// second run on the same machine (which would also measure this one) never shares a
    /// server, a port or a file with it.
    struct RunPlace {
        var script: String
        var dir: String
        var port: Int

        static func new() -> RunPlace {
            let id = UUID().uuidString.prefix(8).lowercased()
            return RunPlace(
                script: "/var/tmp/nestlab-bench-\(id).sh", dir: "/var/tmp/nestlab-bench-\(id)",
                port: Int.random(in: 20_000...59_999))
        }

        var environment: [String] { ["BENCH_DIR=\(dir)", "BENCH_PORT=\(port)"] }
    }

    /// What one `bench` command accumulates: the results file, counts, failures, time left.
    struct Run {
        let options: Options
        let resultsFile: URL
        let script: Data
        let progress: ProgressView
        var samples = 0
        var runs = 0
        var failures: [Failure] = []
        var skipped: [Failure] = []
        var left: Double
        let started = Date()

        init(options: Options, machines: Int, progress: ProgressView) throws {
            self.options = options
            self.progress = progress
            let fm = FileManager.default
            try fm.createDirectory(at: options.resultsDir, withIntermediateDirectories: true)
            resultsFile = options.resultsDir.appendingPathComponent(ResultsFile.name)
            if !fm.fileExists(atPath: resultsFile.path) { _ = fm.createFile(atPath: resultsFile.path, contents: nil) }
            script = try NodeScripts.benchScript()
            left =
                Double(machines) * options.benchmarks.reduce(0) { $0 + options.parameters.expectedSeconds(for: $1) }
                * Double(Self.runs(options))
        }

        static func runs(_ o: Options) -> Int { o.repetitions + (o.warmup ? 1 : 0) }
        var runsPerBench: Int { Self.runs(options) }

        /// Records that `bench` failed on `machine` at `step`, and takes the time of its
        /// `runsLeft` runs, which will not happen, off the time left.
        mutating func fail(_ machine: String, _ bench: String, step: String, _ message: String, runsLeft: Int) {
            failures.append(Failure(machine: machine, benchmark: bench, step: step, message: message))
            left -= options.parameters.expectedSeconds(for: bench) * Double(runsLeft)
        }

        func report(runtime: String? = nil) -> Report {
            Report(
                environment: options.environment, runtime: runtime ?? options.runtime, results: resultsFile.path,
                samples: samples,
                runs: runs, failures: failures, skipped: skipped, seconds: Date().timeIntervalSince(started))
        }
    }

    /// Machines mode: every benchmark on each target in turn; the benchmarks with a server
    /// use `server` when given (else a server on the target itself).
    public static func run(targets: [Target], server: Target? = nil, options: Options, progress: ProgressView)
        async throws -> Report
    {
        var run = try Run(options: options, machines: targets.count, progress: progress)
        let serverPlace = RunPlace.new()
        var serverReady = false
        if let server {
            serverReady = await copyScript(
                server, serverPlace, benchmarks: options.benchmarks.filter(withServer.contains), &run)
        }
        for t in targets {
            let place = RunPlace.new()
            guard await copyScript(t, place, benchmarks: options.benchmarks, &run) else { continue }
            for bench in options.benchmarks {
                if let server, withServer.contains(bench) {
                    guard serverReady else {
                        run.left -= options.parameters.expectedSeconds(for: bench) * Double(run.runsPerBench)
                        continue
                    }
                    try await measure(
                        bench, on: t, place, server: (server, serverPlace), runtime: options.runtime, &run)
                } else {
                    try await measure(bench, on: t, place, server: nil, runtime: options.runtime, &run)
                }
            }
            _ = try? await execute(t, ["rm", "-f", place.script], root: true, timeout: 60)
            finish(t.name, &run)
        }
        if let server, serverReady {
            _ = try? await execute(server, ["rm", "-f", serverPlace.script], root: true, timeout: 60)
        }
        progress.close()
        return run.report()
    }

    /// Puts the node script on the machine; on failure, records every benchmark as failed there.
    static func copyScript(_ t: Target, _ place: RunPlace, benchmarks: [String], _ run: inout Run) async -> Bool {
        run.progress.update(t.name, "copying the benchmark script", detail: run.options.environment)
        let copy: ChildProcess.Captured
        do {
            copy = try await execute(
                t, ["sh", "-c", "echo \(run.script.base64EncodedString()) | base64 -d > \(place.script)"], root: false,
                timeout: 120)
        } catch {
            copy = ChildProcess.Captured(status: -1, stdout: "", stderr: "\(error)", timedOut: false, seconds: 0)
        }
        guard copy.status != 0 else { return true }
        let why = "cannot copy the benchmark script (exit \(copy.status)): \(lastLine(copy.stderr))"
        for b in benchmarks { run.failures.append(Failure(machine: t.name, benchmark: b, step: "copy", message: why)) }
        run.progress.finish(t.name, "failed", failed: true, detail: why)
        run.left -=
            benchmarks.reduce(0) { $0 + run.options.parameters.expectedSeconds(for: $1) } * Double(run.runsPerBench)
        return false
    }

    static func finish(_ name: String, _ run: inout Run) {
        let mine = run.failures.filter { $0.machine == name }
        run.progress.finish(
            name, mine.isEmpty ? "done" : "\(mine.count) failed", failed: !mine.isEmpty,
            detail: mine.map { "\($0.benchmark) \($0.step): \($0.message)" }.joined(separator: "; "))
    }

    /// One benchmark on one machine: setup (the server's first), the warm-up and the
    /// measurements, teardown (always). Samples are labelled with `runtime` and the machine.
    /// `endpoint`: a server nestlab does not run (a unikernel), at this address and port.
    static func measure(
        _ bench: String, on t: Target, _ place: RunPlace, server: (Target, RunPlace)?,
        endpoint: (address: String, port: Int)? = nil, runtime: String, _ run: inout Run
    ) async throws {
        let options = run.options
        let key = t.name
        let env = options.parameters.values(for: bench)
        let parameters = Dictionary(uniqueKeysWithValues: env.map { ($0.key, $0.value) })
        let paramArgs = env.map { "\($0.env)=\($0.value)" }
        var clientArgs = place.environment + t.environment + paramArgs
        var serverArgs: [String] = []
        if server == nil, let e = endpoint {
            clientArgs =
                ["BENCH_DIR=\(place.dir)", "BENCH_PORT=\(e.port)", "BENCH_SERVER=\(e.address)"] + t.environment
                + paramArgs
        }
        if let (s, sp) = server {
            guard let address = s.address else {
                run.fail(
                    t.name, bench, step: "setup", "the server \(s.name) has no known address",
                    runsLeft: run.runsPerBench)
                return
            }
            // The server's port is the client's: BENCH_PORT of the server's place.
            serverArgs =
                ["BENCH_DIR=\(sp.dir)", "BENCH_PORT=\(sp.port)", "BENCH_LISTEN=0.0.0.0"]
                + (t.address.map { ["BENCH_ALLOW=\(cidr($0))"] } ?? []) + s.environment + paramArgs
            clientArgs =
                ["BENCH_DIR=\(place.dir)", "BENCH_PORT=\(sp.port)", "BENCH_SERVER=\(address)"] + t.environment
                + paramArgs
            guard try await setUpServer(bench, for: t, on: s, sp, args: serverArgs, &run) else { return }
        }
        run.progress.update(
            key, "\(bench): setting up", detail: "[\(options.environment)] about \(Self.format(run.left)) left")
        let setup = try await execute(
            t, ["env"] + clientArgs + ["sh", place.script, "setup", bench], root: true, timeout: 900)
        if setup.status == 0 {
            try await measurements(
                bench, on: t, args: clientArgs, script: place.script, parameters: parameters, runtime: runtime, &run)
        } else {
            run.fail(t.name, bench, step: "setup", lastLine(setup.stderr), runsLeft: run.runsPerBench)
        }
        try await tearDown(bench, for: t, place, args: clientArgs, server: server, serverArgs: serverArgs, &run)
    }

    /// Sets the benchmark's server up; on failure, records it, tears the server down and returns false.
    private static func setUpServer(
        _ bench: String, for t: Target, on s: Target, _ sp: RunPlace, args serverArgs: [String], _ run: inout Run
    ) async throws -> Bool {
        run.progress.update(
            t.name, "\(bench): setting up the server on \(s.name)", detail: "[\(run.options.environment)]")
        let setup = try await execute(
            s, ["env"] + serverArgs + ["sh", sp.script, "setup", bench], root: true, timeout: 900)
        guard setup.status != 0 else { return true }
        run.fail(
            t.name, bench, step: "server setup on \(s.name)", lastLine(setup.stderr), runsLeft: run.runsPerBench)
        _ = try? await execute(
            s, ["env"] + serverArgs + ["sh", sp.script, "teardown", bench], root: true, timeout: 300)
        return false
    }

    /// The benchmark's teardown on the machine, then on its server: always run, failures recorded.
    private static func tearDown(
        _ bench: String, for t: Target, _ place: RunPlace, args clientArgs: [String], server: (Target, RunPlace)?,
        serverArgs: [String], _ run: inout Run
    ) async throws {
        run.progress.update(t.name, "\(bench): tearing down", detail: "[\(run.options.environment)]")
        let down = try await execute(
            t, ["env"] + clientArgs + ["sh", place.script, "teardown", bench], root: true, timeout: 300)
        if down.status != 0 {
            run.failures.append(
                Failure(machine: t.name, benchmark: bench, step: "teardown", message: lastLine(down.stderr)))
        }
        if let (s, sp) = server {
            let down = try await execute(
                s, ["env"] + serverArgs + ["sh", sp.script, "teardown", bench], root: true, timeout: 300)
            if down.status != 0 {
                run.failures.append(
                    Failure(
                        machine: t.name, benchmark: bench, step: "server teardown on \(s.name)",
                        message: lastLine(down.stderr)))
            }
        }
    }

    /// The warm-up and the measurements of one benchmark, set up already.
    static func measurements(
        _ bench: String, on t: Target, args: [String], script: String, parameters: [String: String],
        runtime: String, _ run: inout Run
    ) async throws {
        let options = run.options
        let each = options.parameters.expectedSeconds(for: bench)
        // Runtimes measured on one machine (Kubernetes mode) each get their own folder.
        let rawPath =
            "raw/\(safe(options.environment))/" + (runtime == "none" ? "" : "\(safe(runtime))/") + safe(t.name)
        let rawDir = options.resultsDir.appendingPathComponent(rawPath)
        try FileManager.default.createDirectory(at: rawDir, withIntermediateDirectories: true)
        for i in 0..<run.runsPerBench {
            let rep = options.warmup ? i : i + 1
            let label = rep == 0 ? "warm-up" : "\(rep)/\(options.repetitions)"
            run.progress.update(
                t.name, "\(bench) \(label)", detail: "[\(options.environment)] about \(Self.format(run.left)) left")
            let begin = Date()
            let r = try await execute(
                t, ["env"] + args + ["sh", script, "run", bench], root: true, timeout: each * 3 + 300)
            let end = Date()
            run.left -= each
            run.runs += 1
            let name = "\(bench)-\(rep == 0 ? "warmup" : String(rep))"
            try Data(r.stdout.utf8).write(to: rawDir.appendingPathComponent("\(name).out"))
            if !r.stderr.isEmpty { try Data(r.stderr.utf8).write(to: rawDir.appendingPathComponent("\(name).err")) }
            guard r.status == 0 else {
                run.fail(
                    t.name, bench, step: label,
                    r.timedOut ? "timed out" : "exit \(r.status): \(lastLine(r.stderr))",
                    runsLeft: run.runsPerBench - i - 1)
                return
            }
            if rep == 0 { continue }
            let relative = "\(rawPath)/\(name).out"
            do {
                let metrics = try BenchParsers.parse(benchmark: bench, output: Data(r.stdout.utf8), file: relative)
                var lines = ""
                for m in metrics {
                    lines += try ResultsFile.line(
                        BenchSample(
                            benchmark: bench, metric: m.name, unit: m.unit, value: m.value, direction: m.direction,
                            environment: options.environment, runtime: runtime, machine: t.name, repetition: rep,
                            start: begin, end: end, parameters: parameters, raw: relative))
                }
                try append(lines, to: run.resultsFile)
                run.samples += metrics.count
            } catch {
                run.fail(t.name, bench, step: label, "\(error)", runsLeft: run.runsPerBench - i - 1)
                return
            }
        }
    }

    /// The address as a one-address CIDR (postgres' pg_hba).
    static func cidr(_ address: String) -> String { address.contains(":") ? "\(address)/128" : "\(address)/32" }

    /// Runs a command on the target (a remote shell joins the words: each is quoted; kubectl
    /// exec passes them on as they are).
    static func execute(_ t: Target, _ argv: [String], root: Bool, timeout: Double) async throws
        -> ChildProcess.Captured
    {
        let words = (root && !t.isRoot ? ["sudo", "-n"] : []) + argv
        let command = t.remoteShell ? t.ssh + ["--", words.map(Shell.quote).joined(separator: " ")] : t.ssh + words
        return try await Blocking.run { try ChildProcess.capture(command, timeout: timeout) }
    }

    static func append(_ text: String, to file: URL) throws {
        let h = try FileHandle(forWritingTo: file)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
    }

    /// A name made safe as one path component.
    static func safe(_ s: String) -> String {
        let out = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) ? $0 : "_" })
        return out.isEmpty || out == "." || out == ".." ? "_" : out
    }

    /// The tool's last line, with the server's own reason before it when there is one (pgbench
    /// ends with "could not create connection" after postgres' FATAL line says why).
    static func lastLine(_ s: String) -> String {
        let lines = s.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let last = lines.last else { return "(no message)" }
        if let why = lines.dropLast().last(where: { $0.contains("FATAL") }) {
            return String("\(why) / \(last)".prefix(400))
        }
        return String(last.prefix(400))
    }

    static func format(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
