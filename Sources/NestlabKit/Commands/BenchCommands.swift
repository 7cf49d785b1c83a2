import Foundation
import NestlabCore

/// `nestlab bench`: machines mode of the benchmark runner (see `BenchRunner`).
public enum BenchCommands {
    public struct Request: Sendable {
        public var lab: String?
        public var machines: [String]?
        public var role: String?
        public var sshTargets: [String] = []
        public var sshOptions: [String] = []
        public var environment: String
        public var runtime = "none"
        public var benchmarks: [String]?
        public var repetitions = 5
        public var duration: Int?
        public var paramsFile: String?
        public var resultsDir: String = "results"

        public init(environment: String) { self.environment = environment }
    }

    static let labelPattern = #"^[a-z0-9][a-z0-9._-]{0,63}$"#

    /// Checks the request (exit 2 for bad input, before anything runs) and resolves the targets.
    public static func prepare(_ r: Request, store: StateStore = .default()) throws -> ([BenchRunner.Target], BenchRunner.Options) {
        for (what, value) in [("--environment", r.environment), ("--runtime", r.runtime)] where value.range(of: labelPattern, options: .regularExpression) == nil {
            throw UsageError("\(what) '\(value.prefix(64))' must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. baremetal, nested-mitigated)")
        }
        guard (1...100).contains(r.repetitions) else { throw UsageError("--repeat must be from 1 to 100") }
        if let d = r.duration, !(1...86_400).contains(d) { throw UsageError("--duration must be from 1 to 86400 seconds") }
        var benches = BenchParameters.benchmarks
        if let want = r.benchmarks {
            for b in want where !BenchParameters.benchmarks.contains(b) {
                throw UsageError("unknown benchmark '\(b.prefix(64))'; the benchmarks: \(BenchParameters.benchmarks.joined(separator: ", "))")
            }
            benches = BenchParameters.benchmarks.filter { want.contains($0) }
        }
        var params = BenchParameters()
        if let f = r.paramsFile {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else { throw UsageError("cannot read the parameter file \(f)") }
            do { params = try BenchParameters.load(yaml: text, file: f) } catch let e as BenchParameterError { throw UsageError(e.description) }
        }
        if let d = r.duration { params.duration = d }

        var targets: [BenchRunner.Target] = []
        if let lab = r.lab {
            let access = try AccessCommands.load(lab: lab, store: store)
            let config = try AccessCommands.config(access)
            for m in try AccessCommands.select(access, machines: r.machines, role: r.role) {
                targets.append(BenchRunner.Target(name: m.name, ssh: ["ssh", "-F", config] + batch + [m.name], isRoot: m.user == "root"))
            }
        } else if r.machines != nil || r.role != nil {
            throw UsageError("--machines and --role choose machines of a lab: give the lab's name")
        }
        for t in r.sshTargets {
            guard !t.isEmpty, !t.hasPrefix("-"), !t.contains(where: { $0.isWhitespace }) else {
                throw UsageError("--ssh '\(t.prefix(64))' is not an SSH destination (user@host)")
            }
            let user = t.contains("@") ? String(t[..<t.lastIndex(of: "@")!]) : NSUserName()
            targets.append(BenchRunner.Target(name: t, ssh: ["ssh"] + batch + ["-o", "StrictHostKeyChecking=yes"] + r.sshOptions + [t],
                                              isRoot: user == "root"))
        }
        guard !targets.isEmpty else { throw UsageError("give a lab (its machines run the benchmarks) or --ssh user@host (or both)") }
        var o = BenchRunner.Options(environment: r.environment, resultsDir: URL(fileURLWithPath: r.resultsDir))
        o.runtime = r.runtime
        o.benchmarks = benches
        o.repetitions = r.repetitions
        o.parameters = params
        return (targets, o)
    }

    static let batch = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=15"]

    public static func run(_ r: Request, flags: RunFlags) async throws {
        let (targets, options) = try prepare(r)
        let report = try await BenchRunner.run(targets: targets, options: options, progress: flags.progress(log: nil))
        if flags.format == .json {
            Console.out(try JSONOutput.string(report))
        } else {
            Console.out("\(report.samples) samples from \(report.runs) runs in \(String(format: "%.0f", report.seconds)) s appended to \(report.results)")
        }
        if !report.failures.isEmpty {
            throw OperationError("benchmarks failed: " + report.failures.map { "\($0.machine) \($0.benchmark) (\($0.step)): \($0.message)" }
                .joined(separator: "; "))
        }
    }
}
