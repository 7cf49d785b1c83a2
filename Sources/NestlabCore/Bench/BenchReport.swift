import Foundation

// `nestlab report`: benchmark results as tables of ratios to a baseline environment, a summary
// that answers "which runtime on which host", and the data behind one bar chart per metric.
// Everything here is pure: samples in, a document out. Reading files, drawing the PNGs
// (plot.py) and writing report.md / report.html is NestlabKit's ReportWriter.

// MARK: - The report

/// Benchmark results compared with a baseline environment.
///
/// Each series (benchmark, metric, environment, runtime) is summarised (n, median, min, max,
/// mean with its t-based 95% interval) and divided by its reference series in the baseline
/// environment: the one with the same runtime; when there is none, the baseline's only
/// runtime for that metric; else its `runc`; else its `none`. Output is ordered by keys only,
/// so the same samples give the same bytes whatever order they were read in.
public struct BenchReport: Sendable, Hashable {
    /// One line of a metric's table.
    public struct Row: Sendable, Hashable {
        public var series: BenchSeriesID
        public var kind: BenchEnvironmentKind
        public var summary: Summary
        /// The distinct repetition numbers seen, ascending.
        public var repetitions: [Int]
        /// The baseline series this one is divided by; itself for a baseline series; nil when
        /// the baseline environment has no series to compare with.
        public var reference: BenchSeriesID?
        /// `mean / reference mean`; nil for a reference series itself and when there is none.
        public var ratio: Ratio?

        /// Whether this series is the baseline of its runtime.
        public var isReference: Bool { reference == series }
    }

    /// One metric of one benchmark: its table.
    public struct MetricTable: Sendable, Hashable {
        public var benchmark: String
        public var metric: String
        public var unit: String
        public var direction: BenchSample.Direction
        public var rows: [Row]
        /// The PNG file of its chart, when it has one.
        public var chart: String?

        public func row(_ id: BenchSeriesID) -> Row? { rows.first { $0.series == id } }

        /// Environments in row order.
        public var environments: [String] {
            var seen: [String] = []
            for r in rows where !seen.contains(r.series.environment) { seen.append(r.series.environment) }
            return seen
        }

        public func runtimes(in environment: String) -> [String] {
            rows.filter { $0.series.environment == environment }.map(\.series.runtime)
        }
    }

    public struct BenchmarkSection: Sendable, Hashable {
        public var name: String
        /// The headline metric first, then the others alphabetically.
        public var metrics: [MetricTable]
        public var headline: MetricTable { metrics[0] }
    }

    /// The series of a benchmark's headline metric that comes closest to its baseline.
    public struct Closest: Sendable, Hashable {
        public var benchmark: String
        public var metric: String
        public var direction: BenchSample.Direction
        public var series: BenchSeriesID?
        public var reference: BenchSeriesID?
        public var ratio: Ratio?
    }

    /// One step up the isolation ladder, on a benchmark's headline metric: `to / from`.
    public struct Step: Sendable, Hashable {
        public var benchmark: String
        public var metric: String
        public var direction: BenchSample.Direction
        /// `Kubernetes`, `nesting`, `runtime`, `mitigations` or `nesting + mitigations`.
        public var name: String
        public var from: BenchSeriesID
        public var to: BenchSeriesID
        public var ratio: Ratio?
    }

    /// Something the data does not have.
    public enum Gap: Sendable, Hashable, CustomStringConvertible {
        /// A benchmark has no samples at all from series seen in other benchmarks.
        case benchmarkMissing(benchmark: String, series: [BenchSeriesID])
        /// A metric lacks series that the same benchmark has for other metrics.
        case metricMissing(benchmark: String, metric: String, series: [BenchSeriesID])
        /// A series has fewer repetitions than most series of its metric.
        case fewRepetitions(benchmark: String, metric: String, series: BenchSeriesID, repetitions: [Int], expected: Int)
        /// A series has no baseline series to be divided by.
        case noReference(
            benchmark: String, metric: String, series: [BenchSeriesID], baseline: String,
            baselineRuntimes: [String])

        public var description: String {
            func list(_ s: [BenchSeriesID]) -> String { s.map(\.description).joined(separator: ", ") }
            switch self {
            case .benchmarkMissing(let b, let s):
                return "\(b): no samples at all from \(list(s))"
            case .metricMissing(let b, let m, let s):
                return "\(b) \(m): no samples from \(list(s))"
            case .fewRepetitions(let b, let m, let s, let reps, let expected):
                let n = reps.count
                return "\(b) \(m): \(s) has \(n) repetition\(n == 1 ? "" : "s") ("
                    + reps.map(String.init).joined(separator: ", ") + "); most series have \(expected)"
            case .noReference(let b, let m, let s, let base, let rts):
                let why =
                    rts.isEmpty
                    ? "\(base) has no \(b) \(m) samples"
                    : "\(base) has \(rts.joined(separator: ", ")), none of them "
                        + (s.count == 1 ? "its runtime" : "their runtime")
                return "\(b) \(m): no baseline series for \(list(s)) (\(why))"
            }
        }
    }

    public var baseline: String
    /// Every environment, baseline first, then nested, then mitigated (each alphabetically).
    public var environments: [String]
    /// Distinct samples.
    public var sampleCount: Int
    /// Samples given more than once (e.g. the same file twice), counted once.
    public var duplicates: Int
    public var benchmarks: [BenchmarkSection]
    public var closest: [Closest]
    public var steps: [Step]
    public var gaps: [Gap]
    /// One chart per metric that has a ratio to show.
    public var charts: [BenchChart]

    /// The order benchmarks are reported in; others follow alphabetically.
    public static let benchmarkOrder = ["iperf3", "redis", "stress-ng", "pgbench", "fio"]
    /// Each known benchmark's headline metric; another benchmark's is its first metric alphabetically.
    public static let headlineMetrics = [
        "iperf3": "throughput", "redis": "GET", "stress-ng": "cpu", "pgbench": "tps",
        "fio": "read-iops",
    ]
}

extension BenchReport {
    struct MetricKey: Hashable {
        var benchmark: String
        var metric: String
    }

    /// Orders series: bare metal, nested, mitigated; then environment name; then none, runc, others.
    struct SeriesOrder {
        var baseline: String

        func kind(_ environment: String) -> BenchEnvironmentKind {
            BenchEnvironmentKind(environment: environment, baseline: baseline)
        }

        static func runtimeRank(_ r: String) -> Int { r == "none" ? 0 : r == "runc" ? 1 : 2 }

        func precedes(_ a: BenchSeriesID, _ b: BenchSeriesID) -> Bool {
            (kind(a.environment).rawValue, a.environment, Self.runtimeRank(a.runtime), a.runtime)
                < (kind(b.environment).rawValue, b.environment, Self.runtimeRank(b.runtime), b.runtime)
        }

        func precedes(environment a: String, _ b: String) -> Bool {
            (kind(a).rawValue, a) < (kind(b).rawValue, b)
        }
    }

    static func benchmarkPrecedes(_ a: String, _ b: String) -> Bool {
        let n = benchmarkOrder.count
        return (benchmarkOrder.firstIndex(of: a) ?? n, a) < (benchmarkOrder.firstIndex(of: b) ?? n, b)
    }

    /// The baseline runtime a series of `runtime` is divided by.
    static func referenceRuntime(for runtime: String, baselineRuntimes: Set<String>) -> String? {
        if baselineRuntimes.contains(runtime) { return runtime }
        if baselineRuntimes.count == 1 { return baselineRuntimes.first }
        for r in ["runc", "none"] where baselineRuntimes.contains(r) { return r }
        return nil
    }

    public static func build(samples input: [BenchSample], baseline: String) throws -> BenchReport {
        let unique = Set(input)
        guard !unique.isEmpty else { throw BenchReportError.noSamples }
        let order = SeriesOrder(baseline: baseline)
        let environments = Set(unique.map(\.environment)).sorted { order.precedes(environment: $0, $1) }
        guard environments.contains(baseline) else {
            throw BenchReportError.unknownBaseline(baseline, present: environments.sorted())
        }

        var groups: [MetricKey: [BenchSeriesID: [BenchSample]]] = [:]
        for s in unique {
            let id = BenchSeriesID(environment: s.environment, runtime: s.runtime)
            groups[MetricKey(benchmark: s.benchmark, metric: s.metric), default: [:]][id, default: []].append(s)
        }
        try checkConsistency(groups, order: order)

        var tables: [String: [MetricTable]] = [:]
        for (key, bySeries) in groups {
            tables[key.benchmark, default: []].append(table(key, bySeries, order: order))
        }
        var sections: [BenchmarkSection] = []
        for name in tables.keys.sorted(by: benchmarkPrecedes) {
            let metrics = tables[name, default: []]
            let headline =
                headlineMetrics[name].flatMap { h in metrics.contains { $0.metric == h } ? h : nil }
                ?? metrics.map(\.metric).min()!
            let rank = { (m: String) in (m == headline ? 0 : 1, m) }
            let sorted = metrics.sorted { rank($0.metric) < rank($1.metric) }
            sections.append(BenchmarkSection(name: name, metrics: sorted))
        }

        let charts = assignCharts(&sections, order: order)
        let allSeries = Set(unique.map { BenchSeriesID(environment: $0.environment, runtime: $0.runtime) })
        return BenchReport(
            baseline: baseline, environments: environments, sampleCount: unique.count,
            duplicates: input.count - unique.count, benchmarks: sections,
            closest: sections.map { closest($0.headline) },
            steps: sections.flatMap { steps($0.headline, baseline: baseline, order: order) },
            gaps: gaps(sections, allSeries: allSeries, baseline: baseline, order: order),
            charts: charts)
    }

    /// Every metric whose samples disagree on unit or direction, in one error.
    static func checkConsistency(_ groups: [MetricKey: [BenchSeriesID: [BenchSample]]], order: SeriesOrder) throws {
        var problems: [String] = []
        let keys = groups.keys.sorted {
            benchmarkPrecedes($0.benchmark, $1.benchmark)
                || ($0.benchmark == $1.benchmark && $0.metric < $1.metric)
        }
        for key in keys {
            let samples = groups[key, default: [:]].values.flatMap { $0 }
            for (what, value) in [
                ("unit", { (s: BenchSample) in s.unit }),
                ("direction", { (s: BenchSample) in s.direction.rawValue }),
            ] {
                var environmentsBy: [String: Set<String>] = [:]
                for s in samples { environmentsBy[value(s), default: []].insert(s.environment) }
                guard environmentsBy.count > 1 else { continue }
                let parts = environmentsBy.keys.sorted().map { v in
                    "'\(v)' in "
                        + environmentsBy[v, default: []].sorted { order.precedes(environment: $0, $1) }
                        .joined(separator: ", ")
                }
                problems.append(
                    "\(key.benchmark) \(key.metric): the \(what) is " + parts.joined(separator: "; ")
                        + " (a ratio needs one \(what); re-parse the raw output or report the runs apart)")
            }
        }
        if !problems.isEmpty { throw BenchReportError.inconsistentMetrics(problems) }
    }

    static func table(_ key: MetricKey, _ bySeries: [BenchSeriesID: [BenchSample]], order: SeriesOrder) -> MetricTable {
        let first = bySeries.values.first!.first!
        var summaries: [BenchSeriesID: (Summary, [Int])] = [:]
        for (id, samples) in bySeries {
            guard let s = Summary(samples.map(\.value).filter(\.isFinite)) else { continue }
            summaries[id] = (s, Set(samples.map(\.repetition)).sorted())
        }
        let baselineRuntimes = Set(summaries.keys.filter { $0.environment == order.baseline }.map(\.runtime))
        var rows: [Row] = []
        for id in summaries.keys.sorted(by: order.precedes) {
            let (summary, reps) = summaries[id]!
            let reference = referenceRuntime(for: id.runtime, baselineRuntimes: baselineRuntimes)
                .map { BenchSeriesID(environment: order.baseline, runtime: $0) }
            var ratio: Ratio?
            if let reference, reference != id, let base = summaries[reference] { ratio = Ratio(summary, over: base.0) }
            rows.append(
                Row(
                    series: id, kind: order.kind(id.environment), summary: summary, repetitions: reps,
                    reference: reference, ratio: ratio))
        }
        return MetricTable(
            benchmark: key.benchmark, metric: key.metric, unit: first.unit, direction: first.direction,
            rows: rows, chart: nil)
    }

    /// Whether `a` is better than `b` for a metric of this direction.
    static func better(_ a: Double, _ b: Double, _ direction: BenchSample.Direction) -> Bool {
        direction == .higher ? a > b : a < b
    }

    static func closest(_ t: MetricTable) -> Closest {
        var best: Row?
        for r in t.rows where !r.isReference {
            guard let ratio = r.ratio else { continue }
            if let b = best, let bRatio = b.ratio, !better(ratio.value, bRatio.value, t.direction) { continue }
            best = r
        }
        return Closest(
            benchmark: t.benchmark, metric: t.metric, direction: t.direction, series: best?.series,
            reference: best?.reference, ratio: best?.ratio)
    }

    /// The nested environment a mitigated one is a variant of: its name without "mitigated",
    /// or else the only nested environment.
    static func counterpart(of mitigated: String, nested: [String]) -> String? {
        let separators = CharacterSet(charactersIn: "-_. ")
        var stripped = mitigated
        if let r = stripped.range(of: "mitigated", options: .caseInsensitive) { stripped.removeSubrange(r) }
        stripped = stripped.trimmingCharacters(in: separators)
        for (doubled, single) in [("--", "-"), ("__", "_"), ("..", ".")] {
            stripped = stripped.replacingOccurrences(of: doubled, with: single)
        }
        if nested.contains(stripped) { return stripped }
        return nested.count == 1 ? nested[0] : nil
    }

    static func steps(_ t: MetricTable, baseline: String, order: SeriesOrder) -> [Step] {
        var out: [Step] = []
        func runtimes(_ env: String) -> [String] { t.runtimes(in: env) }
        func plain(_ env: String) -> String? { ["runc", "none"].first { runtimes(env).contains($0) } }
        func add(_ name: String, _ fromEnv: String, _ fromRuntime: String?, _ toEnv: String, _ toRuntime: String?) {
            guard let fromRuntime, let toRuntime else { return }
            let from = BenchSeriesID(environment: fromEnv, runtime: fromRuntime)
            let to = BenchSeriesID(environment: toEnv, runtime: toRuntime)
            guard let f = t.row(from), let g = t.row(to) else { return }
            out.append(
                Step(
                    benchmark: t.benchmark, metric: t.metric, direction: t.direction, name: name, from: from,
                    to: to, ratio: Ratio(g.summary, over: f.summary)))
        }
        let base = runtimes(baseline)
        if base.contains("none"), base.contains("runc") { add("Kubernetes", baseline, "none", baseline, "runc") }
        let envs = t.environments
        let nested = envs.filter { order.kind($0) == .nested }
        for n in nested {
            let shared = ["runc", "none"].first { base.contains($0) && runtimes(n).contains($0) }
            add("nesting", baseline, shared ?? plain(baseline), n, shared ?? plain(n))
            for r in runtimes(n) where r != "runc" && r != "none" { add("runtime", n, plain(n), n, r) }
        }
        for m in envs.filter({ order.kind($0) == .mitigated }) {
            if let n = counterpart(of: m, nested: nested) {
                for r in runtimes(m) where runtimes(n).contains(r) { add("mitigations", n, r, m, r) }
            } else {
                let shared = ["runc", "none"].first { base.contains($0) && runtimes(m).contains($0) }
                add("nesting + mitigations", baseline, shared ?? plain(baseline), m, shared ?? plain(m))
            }
        }
        return out
    }

    static func gaps(
        _ sections: [BenchmarkSection], allSeries: Set<BenchSeriesID>, baseline: String,
        order: SeriesOrder
    ) -> [Gap] {
        var out: [Gap] = []
        for section in sections {
            let seen = Set(section.metrics.flatMap { $0.rows.map(\.series) })
            let absent = allSeries.subtracting(seen).sorted(by: order.precedes)
            if !absent.isEmpty { out.append(.benchmarkMissing(benchmark: section.name, series: absent)) }
            for t in section.metrics {
                let missing = seen.subtracting(t.rows.map(\.series)).sorted(by: order.precedes)
                if !missing.isEmpty {
                    out.append(.metricMissing(benchmark: t.benchmark, metric: t.metric, series: missing))
                }
                // The most common number of repetitions (a tie goes to the larger count).
                var histogram: [Int: Int] = [:]
                for r in t.rows { histogram[r.repetitions.count, default: 0] += 1 }
                let expected = histogram.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? 0
                for r in t.rows where r.repetitions.count < expected {
                    out.append(
                        .fewRepetitions(
                            benchmark: t.benchmark, metric: t.metric, series: r.series,
                            repetitions: r.repetitions, expected: expected))
                }
                let orphans = t.rows.filter { $0.reference == nil }.map(\.series)
                if !orphans.isEmpty {
                    out.append(
                        .noReference(
                            benchmark: t.benchmark, metric: t.metric, series: orphans,
                            baseline: baseline, baselineRuntimes: t.runtimes(in: baseline)))
                }
            }
        }
        return out
    }

    /// Gives every metric with a ratio to show a chart (file names unique and file-system safe).
    static func assignCharts(_ sections: inout [BenchmarkSection], order: SeriesOrder) -> [BenchChart] {
        var charts: [BenchChart] = []
        var used: Set<String> = []
        for si in sections.indices {
            for mi in sections[si].metrics.indices {
                let t = sections[si].metrics[mi]
                guard t.rows.contains(where: { !$0.isReference && $0.ratio != nil }) else { continue }
                let stem = BenchChart.fileStem(t.benchmark + "-" + t.metric)
                var file = stem + ".png"
                var n = 2
                while used.contains(file) {
                    file = "\(stem)-\(n).png"
                    n += 1
                }
                used.insert(file)
                sections[si].metrics[mi].chart = file
                let bars = t.rows.compactMap { r -> BenchChart.Bar? in
                    if r.isReference {
                        return BenchChart.Bar(
                            environment: r.series.environment, runtime: r.series.runtime,
                            kind: "baseline", ratio: 1, low: nil, high: nil)
                    }
                    guard let ratio = r.ratio else { return nil }
                    return BenchChart.Bar(
                        environment: r.series.environment, runtime: r.series.runtime,
                        kind: r.kind.label, ratio: ratio.value, low: ratio.ci95?.lowerBound,
                        high: ratio.ci95?.upperBound)
                }
                let better = t.direction == .higher ? "higher is better" : "lower is better"
                charts.append(
                    BenchChart(
                        file: file, benchmark: t.benchmark, metric: t.metric, unit: t.unit,
                        title: "\(t.benchmark) \(t.metric) (\(t.unit)): ratio to \(order.baseline)",
                        yLabel: "mean / \(order.baseline) mean (\(better); bars: 95% CI)", bars: bars))
            }
        }
        return charts
    }
}

// MARK: - The document

extension BenchReport {
    static func betterLabel(_ d: BenchSample.Direction) -> String {
        d == .higher ? "higher is better" : "lower is better"
    }

    /// The report as typed blocks, rendered by ``BenchReportDocument/markdown()`` and
    /// ``BenchReportDocument/html(images:)``.
    public var document: BenchReportDocument {
        typealias B = BenchReportDocument.Block
        var blocks: [B] = []
        let order = SeriesOrder(baseline: baseline)
        let envText = environments.map { "\($0) (\(order.kind($0).label))" }.joined(separator: ", ")
        blocks.append(.paragraph([.text("Baseline: "), .strong(baseline), .text(". Environments: \(envText).")]))
        let seriesCount = benchmarks.reduce(0) { $0 + $1.metrics.reduce(0) { $0 + $1.rows.count } }
        let dup = duplicates == 0 ? "" : " (\(duplicates) duplicate sample\(duplicates == 1 ? "" : "s") counted once)"
        blocks.append(
            .paragraph([
                .text(
                    "\(sampleCount) samples in \(seriesCount) series\(dup). A mean comes with its 95% confidence interval "
                        + "(Student's t). A ratio is a series' mean over the mean of its baseline series (same runtime in "
                        + "\(baseline); else \(baseline)'s only runtime for that metric; else its runc; else its none), with a 95% "
                        + "interval from both series' standard errors. A ratio whose interval contains 1 is within the noise. "
                        + "Numbers have 4 significant digits (integer digits are never rounded away).")
            ]))

        blocks.append(.heading(2, "Summary: which runtime on which host"))
        blocks.append(.heading(3, "Closest to \(baseline)"))
        blocks.append(
            .paragraph([
                .text(
                    "Per benchmark, on its headline metric: the series nearest to the baseline in the good direction.")
            ]))
        blocks.append(
            .table(
                .init(
                    header: ["benchmark", "metric", "better", "closest", "vs", "ratio [95% CI]", "verdict"],
                    numeric: [false, false, false, false, false, true, false],
                    rows: closest.map { c in
                        [
                            c.benchmark, c.metric, Self.betterLabel(c.direction), c.series?.description ?? "n/a",
                            c.reference?.description ?? "n/a", BenchFormat.ratio(c.ratio),
                            BenchFormat.verdict(c.ratio, c.direction),
                        ]
                    })))
        blocks.append(.heading(3, "What each step of isolation costs"))
        blocks.append(
            .paragraph([
                .text(
                    "Headline metrics, each step's series over the one before it: Kubernetes (none to runc on \(baseline)), "
                        + "nesting (\(baseline) to a nested VM), runtime (runc to another runtime in the same VM), mitigations "
                        + "(a nested environment to its mitigated variant).")
            ]))
        if steps.isEmpty {
            blocks.append(.paragraph([.text("The data has no pair of series for any step.")]))
        } else {
            blocks.append(
                .table(
                    .init(
                        header: ["benchmark", "metric", "step", "from", "to", "ratio [95% CI]", "verdict"],
                        numeric: [false, false, false, false, false, true, false],
                        rows: steps.map { s in
                            [
                                s.benchmark, s.metric, s.name, s.from.description, s.to.description,
                                BenchFormat.ratio(s.ratio),
                                BenchFormat.verdict(s.ratio, s.direction),
                            ]
                        })))
        }

        for section in benchmarks {
            blocks.append(.heading(2, section.name))
            for t in section.metrics {
                let headline = t.metric == section.headline.metric ? ", headline" : ""
                let better = Self.betterLabel(t.direction)
                blocks.append(.heading(3, "\(section.name) \(t.metric) (\(t.unit), \(better)\(headline))"))
                blocks.append(.table(Self.metricTable(t)))
                if let chart = t.chart {
                    let alt = "\(t.benchmark) \(t.metric): ratio to \(baseline) per series"
                    blocks.append(.image(file: chart, alt: alt))
                }
            }
        }

        blocks.append(.heading(2, "Missing"))
        if gaps.isEmpty {
            blocks.append(
                .paragraph([
                    .text(
                        "Nothing: every benchmark has every metric for every series seen, "
                            + "each with the usual number of repetitions, and a baseline.")
                ]))
        } else {
            blocks.append(.list(gaps.map { [.text($0.description)] }))
        }
        return BenchReportDocument(title: "nestlab benchmark report", blocks: blocks)
    }

    static func metricTable(_ t: MetricTable) -> BenchReportDocument.Table {
        let f = { (v: Double) in BenchFormat.significant(v) }
        return .init(
            header: [
                "environment", "runtime", "n", "median", "min", "max", "mean [95% CI]", "ratio [95% CI]", "vs",
                "verdict",
            ],
            numeric: [false, false, true, true, true, true, true, true, false, false],
            rows: t.rows.map { r in
                let s = r.summary
                let ratio = r.isReference ? "1 (baseline)" : BenchFormat.ratio(r.ratio)
                let verdict = r.isReference ? "baseline" : BenchFormat.verdict(r.ratio, t.direction)
                return [
                    r.series.environment, r.series.runtime, String(s.count), f(s.median), f(s.min), f(s.max),
                    f(s.mean) + " " + BenchFormat.interval(s.ci95), ratio, r.reference?.description ?? "n/a",
                    verdict,
                ]
            })
    }

    public func markdown() -> String { document.markdown() }

    /// The HTML page; `images` maps a chart's file name to its PNG bytes (embedded as data: URLs).
    public func html(images: [String: Data]) -> String { document.html(images: images) }
}
