import Foundation
import NestlabCore

/// `nestlab bench`, machines mode: the paper's benchmarks run over SSH on a lab's machines or
/// on any host given by an SSH target, each a warm-up (discarded) and `repeat` measurements.
///
/// Per target and benchmark: `bench-node.sh setup`, the runs, `teardown` (always, even after
/// a failure). Each run's stdout is kept as a raw file (`raw/ENV/MACHINE/BENCH-N.out`), parsed
/// (`BenchParsers`), and its samples appended to `results.jsonl` at once, so a run that stops
/// halfway keeps what it measured. Targets run one after the other: machines measured at the
/// same time on one host would measure each other.
public enum BenchRunner {
    /// A machine to run on: how to reach it with ssh, and as whom.
    public struct Target: Sendable {
        public var name: String
        /// `ssh … DESTINATION`: everything up to and including the destination.
        public var ssh: [String]
        /// Whether the login is root already (else commands run through `sudo -n`).
        public var isRoot: Bool

        public init(name: String, ssh: [String], isRoot: Bool) {
            self.name = name
            self.ssh = ssh
            self.isRoot = isRoot
        }
    }

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
            return RunPlace(script: "/var/tmp/nestlab-bench-\(id).sh", dir: "/var/tmp/nestlab-bench-\(id)", port: Int.random(in: 20_000...59_999))
        }

        var environment: [String] { ["BENCH_DIR=\(dir)", "BENCH_PORT=\(port)"] }
    }

    public static func run(targets: [Target], options: Options, progress: ProgressView) async throws -> Report {
        let started = Date()
        let fm = FileManager.default
        try fm.createDirectory(at: options.resultsDir, withIntermediateDirectories: true)
        let resultsFile = options.resultsDir.appendingPathComponent(ResultsFile.name)
        if !fm.fileExists(atPath: resultsFile.path) { fm.createFile(atPath: resultsFile.path, contents: nil) }
        let script = try NodeScripts.benchScript()
        let runsPerBench = options.repetitions + (options.warmup ? 1 : 0)
        var left = Double(targets.count) * options.benchmarks.reduce(0) { $0 + options.parameters.expectedSeconds(for: $1) * Double(runsPerBench) }
        var samples = 0, runs = 0
        var failures: [Failure] = []

        for t in targets {
            let key = t.name
            let place = RunPlace.new()
            let remoteScript = place.script
            progress.update(key, "copying the benchmark script", detail: options.environment)
            let copy = try await ssh(t, ["sh", "-c", "echo \(script.base64EncodedString()) | base64 -d > \(remoteScript)"], root: false, timeout: 120)
            guard copy.status == 0 else {
                let why = "cannot copy the benchmark script (ssh exit \(copy.status)): \(lastLine(copy.stderr))"
                for b in options.benchmarks { failures.append(Failure(machine: t.name, benchmark: b, step: "copy", message: why)) }
                progress.finish(key, "failed", failed: true, detail: why)
                left -= options.benchmarks.reduce(0) { $0 + options.parameters.expectedSeconds(for: $1) * Double(runsPerBench) }
                continue
            }
            for bench in options.benchmarks {
                let each = options.parameters.expectedSeconds(for: bench)
                let env = options.parameters.values(for: bench)
                let parameters = Dictionary(uniqueKeysWithValues: env.map { ($0.key, $0.value) })
                let envArgs = place.environment + env.map { "\($0.env)=\($0.value)" }
                progress.update(key, "\(bench): setting up", detail: "[\(options.environment)] about \(Self.format(left)) left")
                let setup = try await ssh(t, ["env"] + envArgs + ["sh", remoteScript, "setup", bench], root: true, timeout: 900)
                if setup.status != 0 {
                    failures.append(Failure(machine: t.name, benchmark: bench, step: "setup", message: lastLine(setup.stderr)))
                    _ = try? await ssh(t, ["env"] + place.environment + ["sh", remoteScript, "teardown", bench], root: true, timeout: 300)
                    left -= each * Double(runsPerBench)
                    continue
                }
                let rawDir = options.resultsDir.appendingPathComponent("raw/\(safe(options.environment))/\(safe(t.name))")
                try fm.createDirectory(at: rawDir, withIntermediateDirectories: true)
                for i in 0..<runsPerBench {
                    let rep = options.warmup ? i : i + 1
                    let label = rep == 0 ? "warm-up" : "\(rep)/\(options.repetitions)"
                    progress.update(key, "\(bench) \(label)", detail: "[\(options.environment)] about \(Self.format(left)) left")
                    let begin = Date()
                    let r = try await ssh(t, ["env"] + envArgs + ["sh", remoteScript, "run", bench], root: true,
                                          timeout: each * 3 + 300)
                    let end = Date()
                    left -= each
                    runs += 1
                    let name = "\(bench)-\(rep == 0 ? "warmup" : String(rep))"
                    let raw = rawDir.appendingPathComponent("\(name).out")
                    try Data(r.stdout.utf8).write(to: raw)
                    if !r.stderr.isEmpty { try Data(r.stderr.utf8).write(to: rawDir.appendingPathComponent("\(name).err")) }
                    guard r.status == 0 else {
                        failures.append(Failure(machine: t.name, benchmark: bench, step: label,
                                                message: r.timedOut ? "timed out" : "exit \(r.status): \(lastLine(r.stderr))"))
                        break
                    }
                    if rep == 0 { continue }
                    let relative = "raw/\(safe(options.environment))/\(safe(t.name))/\(name).out"
                    do {
                        let metrics = try BenchParsers.parse(benchmark: bench, output: Data(r.stdout.utf8), file: relative)
                        var lines = ""
                        for m in metrics {
                            lines += try ResultsFile.line(BenchSample(
                                benchmark: bench, metric: m.name, unit: m.unit, value: m.value, direction: m.direction,
                                environment: options.environment, runtime: options.runtime, machine: t.name, repetition: rep,
                                start: begin, end: end, parameters: parameters, raw: relative))
                        }
                        try append(lines, to: resultsFile)
                        samples += metrics.count
                    } catch {
                        failures.append(Failure(machine: t.name, benchmark: bench, step: label, message: "\(error)"))
                        break
                    }
                }
                progress.update(key, "\(bench): tearing down", detail: "[\(options.environment)]")
                let down = try await ssh(t, ["env"] + place.environment + ["sh", remoteScript, "teardown", bench], root: true, timeout: 300)
                if down.status != 0 {
                    failures.append(Failure(machine: t.name, benchmark: bench, step: "teardown", message: lastLine(down.stderr)))
                }
            }
            _ = try? await ssh(t, ["rm", "-f", remoteScript], root: true, timeout: 60)
            let mine = failures.filter { $0.machine == t.name }
            progress.finish(key, mine.isEmpty ? "done" : "\(mine.count) failed", failed: !mine.isEmpty,
                            detail: mine.map { "\($0.benchmark) \($0.step): \($0.message)" }.joined(separator: "; "))
        }
        progress.close()
        return Report(environment: options.environment, runtime: options.runtime, results: resultsFile.path, samples: samples,
                      runs: runs, failures: failures, seconds: Date().timeIntervalSince(started))
    }

    /// Runs a command on the target (the remote shell joins the words: each is quoted).
    static func ssh(_ t: Target, _ argv: [String], root: Bool, timeout: Double) async throws -> ChildProcess.Captured {
        let words = (root && !t.isRoot ? ["sudo", "-n"] : []) + argv
        let command = t.ssh + ["--", words.map(Shell.quote).joined(separator: " ")]
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

    static func lastLine(_ s: String) -> String {
        s.split(separator: "\n").last.map(String.init) ?? "(no message)"
    }

    static func format(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
