import Foundation
import Testing

@testable import NestlabCore

/// `nestlab report`'s engine: tables, ratios, the summary and the Missing section, checked
/// against golden files, for input order independence, and for escaping.
@Suite struct BenchReportTests {
    /// Relative deviations of repetitions 1...5: mean 0, so a series' mean is its nominal value.
    static let jitter = [-0.02, 0.01, 0.0, 0.015, -0.005]

    static func sample(
        _ benchmark: String, _ metric: String, _ unit: String, _ direction: BenchSample.Direction,
        _ environment: String, _ runtime: String, repetition: Int, value: Double
    ) -> BenchSample {
        let start = Date(timeIntervalSince1970: 1_700_000_000 + Double(repetition) * 60)
        return BenchSample(
            benchmark: benchmark, metric: metric, unit: unit, value: value, direction: direction,
            environment: environment, runtime: runtime, machine: environment + "-node1",
            repetition: repetition, start: start, end: start.addingTimeInterval(30),
            parameters: ["duration": "30"],
            raw: "raw/\(benchmark)-\(environment)-\(runtime)-\(repetition).txt")
    }

    /// Five repetitions (or the given ones) of a series around `nominal`.
    static func series(
        _ benchmark: String, _ metric: String, _ unit: String, _ direction: BenchSample.Direction,
        _ environment: String, _ runtime: String, nominal: Double,
        repetitions: [Int] = [1, 2, 3, 4, 5]
    ) -> [BenchSample] {
        repetitions.map { r in
            sample(
                benchmark, metric, unit, direction, environment, runtime, repetition: r,
                value: nominal * (1 + jitter[(r - 1) % jitter.count]))
        }
    }

    /// The paper's matrix: bare metal (machine run `none`, Kubernetes `runc`), nested and
    /// nested-mitigated (runc, kata-qemu), five benchmarks, with deliberate gaps: no fio from
    /// nested-mitigated/kata-qemu, no iperf3 retransmits from nested-mitigated/kata-qemu, and
    /// three repetitions of redis GET from nested/kata-qemu.
    static var matrix: [BenchSample] {
        // Relative performance of each series (higher-is-better metrics; lower-is-better use the inverse).
        let factor: [String: Double] = [
            "baremetal/none": 1.0, "baremetal/runc": 0.98, "nested/runc": 0.91, "nested/kata-qemu": 0.72,
            "nested-mitigated/runc": 0.905, "nested-mitigated/kata-qemu": 0.61,
        ]
        let metrics: [(String, String, String, BenchSample.Direction, Double)] = [
            ("iperf3", "throughput", "Gbit/s", .higher, 9.41),
            ("iperf3", "retransmits", "count", .lower, 12),
            ("redis", "GET", "requests/s", .higher, 182_000),
            ("redis", "SET", "requests/s", .higher, 171_500),
            ("stress-ng", "cpu", "bogo-ops/s", .higher, 4_321.5),
            ("pgbench", "tps", "tps", .higher, 1_520),
            ("pgbench", "latency", "ms", .lower, 6.58),
            ("fio", "read-iops", "IOPS", .higher, 48_200),
        ]
        // Where a benchmark departs from that: CPU-bound work barely notices kata, fio suffers
        // from it, and pgbench's system calls pay for the mitigations.
        let tweaks: [String: [String: Double]] = [
            "stress-ng": ["nested/kata-qemu": 0.908, "nested-mitigated/kata-qemu": 0.9],
            "fio": ["nested/kata-qemu": 0.45, "nested/runc": 0.985],
            "pgbench": ["nested-mitigated/runc": 0.8, "nested-mitigated/kata-qemu": 0.55],
        ]
        var out: [BenchSample] = []
        for (benchmark, metric, unit, direction, nominal) in metrics {
            for (key, base) in factor.sorted(by: { $0.key < $1.key }) {
                let f = tweaks[benchmark]?[key] ?? base
                let parts = key.split(separator: "/").map(String.init)
                let (env, rt) = (parts[0], parts[1])
                if benchmark == "fio", key == "nested-mitigated/kata-qemu" { continue }
                if metric == "retransmits", key == "nested-mitigated/kata-qemu" { continue }
                let reps = metric == "GET" && key == "nested/kata-qemu" ? [1, 2, 4] : [1, 2, 3, 4, 5]
                out += series(
                    benchmark, metric, unit, direction, env, rt,
                    nominal: direction == .higher ? nominal * f : nominal / f, repetitions: reps)
            }
        }
        return out
    }

    /// A deterministic shuffle (the same every run).
    static func shuffled(_ a: [BenchSample], seed: UInt64) -> [BenchSample] {
        var rng = LCG(state: seed)
        return a.shuffled(using: &rng)
    }

    struct LCG: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    // MARK: golden

    @Test func markdownGolden() throws {
        let report = try BenchReport.build(samples: Self.matrix, baseline: "baremetal")
        try Fixtures.expectGolden(report.markdown(), "bench-report/matrix.md")
    }

    @Test func htmlGolden() throws {
        let report = try BenchReport.build(samples: Self.matrix, baseline: "baremetal")
        // Stand-in image bytes: the page embeds whatever PNG it is given.
        var images: [String: Data] = [:]
        for c in report.charts { images[c.file] = Data("png:\(c.file)".utf8) }
        try Fixtures.expectGolden(report.html(images: images), "bench-report/matrix.html")
    }

    @Test func chartSpecGolden() throws {
        let report = try BenchReport.build(samples: Self.matrix, baseline: "baremetal")
        try Fixtures.expectGolden(
            String(decoding: try BenchChart.spec(report.charts), as: UTF8.self) + "\n",
            "bench-report/charts.json")
    }

    // MARK: determinism

    @Test(arguments: [1, 2, 3, 42] as [UInt64])
    func sameBytesWhateverTheInputOrder(seed: UInt64) throws {
        let reference = try BenchReport.build(samples: Self.matrix, baseline: "baremetal")
        let shuffled = try BenchReport.build(samples: Self.shuffled(Self.matrix, seed: seed), baseline: "baremetal")
        #expect(shuffled.markdown() == reference.markdown())
        #expect(shuffled.html(images: [:]) == reference.html(images: [:]))
        #expect(shuffled.charts == reference.charts)
    }

    @Test func filesMergedInEitherOrderGiveTheSameReport() throws {
        let all = Self.matrix
        let a = Array(all.filter { $0.environment != "nested" })
        let b = Array(all.filter { $0.environment == "nested" })
        let ab = try BenchReport.build(samples: a + b, baseline: "baremetal").markdown()
        let ba = try BenchReport.build(samples: Self.shuffled(b, seed: 7) + a, baseline: "baremetal").markdown()
        #expect(ab == ba)
        #expect(ab == (try BenchReport.build(samples: all, baseline: "baremetal").markdown()))
    }

    @Test func aFileGivenTwiceIsCountedOnce() throws {
        let once = try BenchReport.build(samples: Self.matrix, baseline: "baremetal")
        let twice = try BenchReport.build(
            samples: Self.matrix + Self.shuffled(Self.matrix, seed: 9),
            baseline: "baremetal")
        #expect(twice.duplicates == Self.matrix.count)
        #expect(twice.benchmarks == once.benchmarks)
        #expect(twice.markdown().contains("(\(Self.matrix.count) duplicate samples counted once)"))
    }

    // MARK: summary

    /// bare metal runc 100 ± 2; nested runc the same within noise; kata clearly 20% slower.
    static var noiseCase: [BenchSample] {
        let v: [(String, String, [Double])] = [
            ("baremetal", "runc", [100, 102, 98, 101, 99]),
            ("nested", "runc", [99, 103, 97, 100, 101]),
            ("nested", "kata-qemu", [80, 81, 79, 80.5, 79.5]),
            ("nested-mitigated", "runc", [90, 90.5, 89.5, 90.2, 89.8]),
        ]
        return v.flatMap { env, rt, values in
            values.enumerated().map { i, x in
                sample("iperf3", "throughput", "Gbit/s", .higher, env, rt, repetition: i + 1, value: x)
            }
        }
    }

    @Test func stepsSayWithinTheNoiseWhenTheIntervalContainsOne() throws {
        let report = try BenchReport.build(samples: Self.noiseCase, baseline: "baremetal")
        let steps = report.steps.map {
            "\($0.name): \($0.from) -> \($0.to): " + BenchFormat.verdict($0.ratio, $0.direction)
        }
        #expect(
            steps == [
                "nesting: baremetal/runc -> nested/runc: within the noise",
                "runtime: nested/runc -> nested/kata-qemu: 20.0% worse",
                "mitigations: nested/runc -> nested-mitigated/runc: 10.0% worse",
            ])
        let nesting = try #require(report.steps.first)
        #expect(nesting.ratio?.withinNoise == true)
        let md = report.markdown()
        #expect(
            md.contains(
                "| iperf3 | throughput | nesting | baremetal/runc | nested/runc | 1.000 [0.9660, 1.034] "
                    + "| within the noise |"))
        #expect(
            md.contains(
                "| nested | runc | 5 | 100.0 | 97.00 | 103.0 | 100.0 [97.22, 102.8] "
                    + "| 1.000 [0.9660, 1.034] | baremetal/runc | within the noise |"))
        // The closest series is nested/runc, and its difference is noise too.
        #expect(report.closest.map { $0.series?.description } == ["nested/runc"])
        #expect(md.contains("| iperf3 | throughput | higher is better | nested/runc | baremetal/runc |"))
    }

    @Test func lowerIsBetterFlipsTheVerdict() throws {
        let values: [(String, String, [Double])] = [
            ("baremetal", "runc", [4.9, 5, 5.1]), ("nested", "runc", [9.8, 10, 10.2]),
            ("nested", "kata-qemu", [7.35, 7.5, 7.65]),
        ]
        let samples = values.flatMap { env, rt, xs in
            xs.enumerated().map { i, x in
                Self.sample("pgbench", "latency", "ms", .lower, env, rt, repetition: i + 1, value: x)
            }
        }
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        let runc = report.benchmarks[0].headline.row(BenchSeriesID(environment: "nested", runtime: "runc"))?.ratio
        #expect(BenchFormat.ratio(runc) == "2.000 [1.859, 2.141]")
        #expect(BenchFormat.verdict(runc, .lower) == "100.0% worse")
        // Closest in the good direction for latency is the lower ratio: kata at 1.5, not runc at 2.
        #expect(report.closest[0].series == BenchSeriesID(environment: "nested", runtime: "kata-qemu"))
        // runc -> kata lowers the latency: better.
        #expect(report.steps.map { BenchFormat.verdict($0.ratio, $0.direction) }.last == "25.0% better")
    }

    @Test func aBareMetalMachineRunIsTheBaselineOfEveryRuntime() throws {
        let samples =
            Self.series("redis", "GET", "requests/s", .higher, "baremetal", "none", nominal: 100)
            + Self.series("redis", "GET", "requests/s", .higher, "nested", "runc", nominal: 90)
            + Self.series("redis", "GET", "requests/s", .higher, "nested", "kata-qemu", nominal: 70)
        let t = try BenchReport.build(samples: samples, baseline: "baremetal").benchmarks[0].headline
        #expect(t.rows.map { $0.reference?.description } == ["baremetal/none", "baremetal/none", "baremetal/none"])
        #expect(t.rows.map { $0.ratio.map { BenchFormat.significant($0.value) } } == [nil, "0.9000", "0.7000"])
    }

    @Test func withSeveralBaselineRuntimesAnotherRuntimeIsComparedWithRunc() throws {
        let samples =
            Self.series("fio", "read-iops", "IOPS", .higher, "baremetal", "none", nominal: 100)
            + Self.series("fio", "read-iops", "IOPS", .higher, "baremetal", "runc", nominal: 95)
            + Self.series("fio", "read-iops", "IOPS", .higher, "nested", "kata-qemu", nominal: 76)
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        let kataID = BenchSeriesID(environment: "nested", runtime: "kata-qemu")
        let kata = try #require(report.benchmarks[0].headline.row(kataID))
        #expect(kata.reference == BenchSeriesID(environment: "baremetal", runtime: "runc"))
        #expect(BenchFormat.significant(kata.ratio?.value ?? 0) == "0.8000")
        #expect(report.steps.map(\.name) == ["Kubernetes"])
    }

    // MARK: missing

    @Test func missingSectionListsAbsentSeriesAndShortRepetitions() throws {
        let report = try BenchReport.build(samples: Self.matrix, baseline: "baremetal")
        #expect(
            report.gaps.map(\.description) == [
                "iperf3 retransmits: no samples from nested-mitigated/kata-qemu",
                "redis GET: nested/kata-qemu has 3 repetitions (1, 2, 4); most series have 5",
                "fio: no samples at all from nested-mitigated/kata-qemu",
            ])
        let md = report.markdown()
        let missing = try #require(md.range(of: "## Missing\n\n"))
        #expect(
            md[missing.upperBound...] == """
                - iperf3 retransmits: no samples from nested-mitigated/kata-qemu
                - redis GET: nested/kata-qemu has 3 repetitions (1, 2, 4); most series have 5
                - fio: no samples at all from nested-mitigated/kata-qemu

                """)
    }

    @Test func aMetricWithoutBaselineSeriesIsListed() throws {
        let samples =
            Self.series("stress-ng", "cpu", "bogo-ops/s", .higher, "baremetal", "none", nominal: 10)
            + Self.series("stress-ng", "vm", "bogo-ops/s", .higher, "nested", "runc", nominal: 10)
            + Self.series("stress-ng", "cpu", "bogo-ops/s", .higher, "nested", "runc", nominal: 9)
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        #expect(
            report.gaps.map(\.description) == [
                "stress-ng vm: no samples from baremetal/none",
                "stress-ng vm: no baseline series for nested/runc (baremetal has no stress-ng vm samples)",
            ])
        // Only the metric with a ratio gets a chart.
        #expect(report.charts.map(\.file) == ["stress-ng-cpu.png"])
    }

    @Test func nothingMissing() throws {
        let samples =
            Self.series("iperf3", "throughput", "Gbit/s", .higher, "baremetal", "none", nominal: 9)
            + Self.series("iperf3", "throughput", "Gbit/s", .higher, "nested", "runc", nominal: 8)
        let md = try BenchReport.build(samples: samples, baseline: "baremetal").markdown()
        #expect(
            md.hasSuffix(
                "## Missing\n\nNothing: every benchmark has every metric for every series seen, each with "
                    + "the usual number of repetitions, and a baseline.\n"))
    }

    // MARK: ordering and headlines

    @Test func benchmarksInThePapersOrderThenAlphabetically() throws {
        let names = ["zz-custom", "fio", "aa-custom", "pgbench", "iperf3", "stress-ng", "redis"]
        let samples = names.flatMap { Self.series($0, "m", "u", .higher, "baremetal", "none", nominal: 1) }
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        #expect(
            report.benchmarks.map(\.name)
                == ["iperf3", "redis", "stress-ng", "pgbench", "fio", "aa-custom", "zz-custom"])
    }

    @Test func headlineMetricIsTheFixedOneElseTheFirstAlphabetically() throws {
        let samples =
            ["SET", "GET", "INCR"].flatMap {
                Self.series("redis", $0, "requests/s", .higher, "baremetal", "none", nominal: 1)
            }
            + ["zeta", "alpha"].flatMap {
                Self.series("sysbench", $0, "events/s", .higher, "baremetal", "none", nominal: 1)
            }
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        #expect(report.benchmarks.map { $0.metrics.map(\.metric) } == [["GET", "INCR", "SET"], ["alpha", "zeta"]])
    }

    // MARK: errors

    @Test func unknownBaselineListsTheEnvironments() throws {
        let present = ["baremetal", "nested", "nested-mitigated"]
        #expect(throws: BenchReportError.unknownBaseline("bare-metal", present: present)) {
            try BenchReport.build(samples: Self.matrix, baseline: "bare-metal")
        }
        let e = BenchReportError.unknownBaseline("x", present: ["a", "b"])
        #expect(e.description == "no samples from the baseline environment 'x'; environments present: a, b")
        #expect(throws: BenchReportError.noSamples) { try BenchReport.build(samples: [], baseline: "baremetal") }
    }

    @Test func aMetricWithTwoUnitsIsAnError() throws {
        var samples = Self.series("iperf3", "throughput", "Gbit/s", .higher, "baremetal", "none", nominal: 9)
        samples += Self.series("iperf3", "throughput", "Mbit/s", .higher, "nested", "runc", nominal: 8000)
        #expect(
            throws: BenchReportError.inconsistentMetrics([
                "iperf3 throughput: the unit is 'Gbit/s' in baremetal; 'Mbit/s' in nested (a ratio needs one unit; "
                    + "re-parse the raw output or report the runs apart)"
            ])
        ) { try BenchReport.build(samples: samples, baseline: "baremetal") }
    }

    // MARK: escaping

    @Test func hostileNamesAreEscaped() throws {
        let evil = "<script>alert('x')</script>"
        let samples =
            Self.series("iperf3", "throughput", "Gbit/s", .higher, "baremetal", "none", nominal: 9)
            + Self.series("iperf3", "throughput", "Gbit/s", .higher, evil, "run|c & \"co\"", nominal: 8)
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        let html = report.html(images: [:])
        #expect(!html.contains("<script"))
        #expect(!html.contains("run|c & \"co\""))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(html.contains("run|c &amp; &quot;co&quot;"))
        let md = report.markdown()
        #expect(!md.contains("<script>"))
        #expect(md.contains("| \\<script\\>alert('x')\\</script\\> | run\\|c \\& \"co\" |"))
        // Every table row still has the header's number of cells (an escaped | does not split a cell).
        for line in md.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
            #expect(cells == 11 || cells == 8, "\(line)")
        }
    }

    @Test func markdownEscapesWhatCouldBecomeMarkup() {
        #expect(BenchReportDocument.md("[0.95, 1.02]") == "[0.95, 1.02]")
        #expect(BenchReportDocument.md("[x](http://e) [y][z] [d]: u") == "[x\\](http://e) [y\\][z] [d\\]: u")
        #expect(
            BenchReportDocument.md("a|b *c* _d_ `e` <f> #g &h \\")
                == "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\<f\\> \\#g \\&h \\\\")
        #expect(BenchReportDocument.md("two\nlines") == "two lines")
    }

    @Test func chartFileNamesAreSafe() {
        #expect(BenchChart.fileStem("fio-read/iops p99") == "fio-read_iops_p99")
        #expect(BenchChart.fileStem("../x") == "_._x")
    }

    // MARK: numbers

    @Test(
        arguments: [
            (0.95123, "0.9512"), (12.3456, "12.35"), (1234.56, "1235"), (123_456.7, "123457"), (9.99996, "10.00"),
            (0, "0"), (1, "1.000"), (-0.000012346, "-0.00001235"), (-0.00001, "-0.00001000"), (0.99999, "1.000"),
            (182_000, "182000"), (-0.0, "0"),
        ] as [(Double, String)])
    func significantDigits(value: Double, text: String) {
        #expect(BenchFormat.significant(value) == text)
    }

    @Test func fixedDecimalsHaveNoNegativeZero() {
        #expect(BenchFormat.fixed(-0.04, decimals: 1) == "0.0")
        #expect(BenchFormat.fixed(2.05, decimals: 0) == "2")
        #expect(BenchFormat.fixed(0.5, decimals: 0) == "1")
        #expect(BenchFormat.fixed(0.0625, decimals: 3) == "0.063")
    }
}
