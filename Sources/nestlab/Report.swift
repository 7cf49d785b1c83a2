import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare benchmark results with a baseline environment: report.md, report.html and charts.",
            discussion: """
                Reads results.jsonl files (or folders holding one) and merges them. For each benchmark \
                and metric, one row per environment and runtime: n, median, min, max, mean with its 95% \
                interval, and the ratio to the baseline environment's series of the same runtime (or its \
                only runtime, else its runc, else its none), with the ratio's 95% interval. A summary says, \
                per benchmark, which series comes closest to the baseline and what each step of isolation \
                costs (Kubernetes, nesting, runtime, mitigations); a Missing section lists absent series \
                and short repetitions. Writes report.md, charts.json, one PNG per metric (drawn by \
                python3 with matplotlib: Debian package python3-matplotlib; NESTLAB_PYTHON picks the \
                interpreter) and a self-contained report.html into --out.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("results.jsonl files, or folders holding one.", valueName: "results"))
        var results: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The environment the others are divided by (e.g. baremetal).",
                valueName: "environment"))
        var baseline: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The folder to write the report into (made if missing).",
                valueName: "dir"))
        var out: String

        func validate() throws {
            guard !results.isEmpty else {
                throw ValidationError("name at least one results.jsonl or folder holding one")
            }
            guard !baseline.isEmpty else { throw ValidationError("--baseline must name an environment") }
            guard !out.isEmpty else { throw ValidationError("--out must name a folder") }
        }

        func run() async throws {
            try ReportCommand.run(inputs: results, baseline: baseline, out: out, format: global.output)
        }
    }
}
