import Foundation
import Testing

@testable import NestlabCore

/// The five parsers on real outputs captured from the tools (Fixtures/bench/README.md says how).
/// Expected values are copied by hand from the fixture files.
@Suite struct BenchParsersTests {
    static func output(_ fixture: String) throws -> Data {
        try Data(contentsOf: Fixtures.url("bench/\(fixture)"))
    }

    static func parse(_ benchmark: String, _ fixture: String) throws -> [BenchMetric] {
        try BenchParsers.parse(benchmark: benchmark, output: output(fixture), file: fixture)
    }

    /// Names, units and directions exactly; values to 1e-9 relative (they are read, not computed, but for
    /// the divisions the parsers do).
    static func expectMetrics(
        _ actual: [BenchMetric], _ expected: [BenchMetric],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.map(\.name) == expected.map(\.name), sourceLocation: sourceLocation)
        #expect(actual.map(\.unit) == expected.map(\.unit), sourceLocation: sourceLocation)
        #expect(actual.map(\.direction) == expected.map(\.direction), sourceLocation: sourceLocation)
        for (a, e) in zip(actual, expected) {
            #expect(
                abs(a.value - e.value) <= 1e-9 * Swift.max(1, abs(e.value)),
                "\(a.name): \(a.value), expected \(e.value)", sourceLocation: sourceLocation)
        }
    }

    static func m(_ name: String, _ unit: String, _ value: Double, _ direction: BenchSample.Direction) -> BenchMetric {
        BenchMetric(name: name, unit: unit, value: value, direction: direction)
    }

    /// The error a parse throws; fails the test when it throws none or another kind.
    static func parseError(
        _ benchmark: String, _ output: Data, file: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> BenchParseError? {
        do {
            let metrics = try BenchParsers.parse(benchmark: benchmark, output: output, file: file)
            Issue.record("parsed \(metrics) from \(file)", sourceLocation: sourceLocation)
        } catch let e as BenchParseError {
            return e
        } catch {
            Issue.record("not a BenchParseError: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    // MARK: known answers from real outputs

    @Test func iperf3() throws {
        // end.sum_received.bits_per_second 4102372029.9744272, end.sum_sent.retransmits 11
        Self.expectMetrics(
            try Self.parse("iperf3", "iperf3.json"),
            [
                Self.m("throughput", "Gbit/s", 4.1023720299744272, .higher),
                Self.m("retransmits", "count", 11, .lower),
            ])
    }

    @Test func redis() throws {
        Self.expectMetrics(
            try Self.parse("redis", "redis.csv"),
            [
                Self.m("SET", "requests/s", 70422.53, .higher),
                Self.m("SET-p50", "ms", 0.087, .lower),
                Self.m("GET", "requests/s", 51282.05, .higher),
                Self.m("GET-p50", "ms", 0.087, .lower),
            ])
    }

    @Test func stressNG() throws {
        Self.expectMetrics(
            try Self.parse("stress-ng", "stress-ng.yaml"),
            [
                Self.m("cpu", "bogo-ops/s", 1576.623128, .higher)
            ])
    }

    @Test func stressNGTwoStressors() throws {
        Self.expectMetrics(
            try Self.parse("stress-ng", "stress-ng-cpu-matrix.yaml"),
            [
                Self.m("cpu", "bogo-ops/s", 647.746180, .higher),
                Self.m("matrix", "bogo-ops/s", 1227.776358, .higher),
            ])
    }

    @Test func pgbench() throws {
        Self.expectMetrics(
            try Self.parse("pgbench", "pgbench.txt"),
            [
                Self.m("tps", "tps", 305.255041, .higher),
                Self.m("latency", "ms", 6.552, .lower),
            ])
    }

    @Test func fioRandomReadWrite() throws {
        Self.expectMetrics(
            try Self.parse("fio", "fio-randrw.json"),
            [
                Self.m("read-iops", "IOPS", 8883.616384, .higher),
                Self.m("read-bw", "MiB/s", 36387292.0 / 1_048_576, .higher),  // 34.70 MiB/s
                Self.m("read-lat", "us", 83.086485859, .lower),  // clat_ns.mean 83086.485859
                Self.m("write-iops", "IOPS", 8898.601399, .higher),
                Self.m("write-bw", "MiB/s", 36448671.0 / 1_048_576, .higher),
                Self.m("write-lat", "us", 3.735628066, .lower),
            ])
    }

    @Test func fioReadOnlyAfterANote() throws {
        // A real fio output that starts with a note line; write.io_bytes is 0, so no write metrics.
        #expect(try Fixtures.text("bench/fio-read.json").hasPrefix("note: both iodepth >= 1"))
        Self.expectMetrics(
            try Self.parse("fio", "fio-read.json"),
            [
                Self.m("read-iops", "IOPS", 9684.158416, .higher),
                Self.m("read-bw", "MiB/s", 1269322011.0 / 1_048_576, .higher),  // 1210.52 MiB/s
                Self.m("read-lat", "us", 100.228456293, .lower),
            ])
    }

    @Test func fioWithoutCompletionLatency() throws {
        // --disable_clat=1: clat_ns is all zeros with N 0, so the latency is lat_ns.mean 2042.293102 ns.
        Self.expectMetrics(
            try Self.parse("fio", "fio-randwrite-noclat.json"),
            [
                Self.m("write-iops", "IOPS", 333782.217782, .higher),
                Self.m("write-bw", "MiB/s", 1367171964.0 / 1_048_576, .higher),
                Self.m("write-lat", "us", 2.042293102, .lower),
            ])
    }

    @Test func benchmarkNames() {
        #expect(BenchParsers.benchmarks == ["iperf3", "redis", "stress-ng", "pgbench", "fio"])
    }

    // MARK: errors

    @Test func iperf3ReportsItsError() throws {
        let e = Self.parseError("iperf3", try Self.output("iperf3-refused.json"), file: "iperf3-refused.json")
        #expect(
            e
                == .toolError(
                    benchmark: "iperf3", file: "iperf3-refused.json",
                    message: "unable to connect to server: Connection refused"))
        #expect(
            e?.description == "iperf3 output iperf3-refused.json: iperf3 reported an error: "
                + "unable to connect to server: Connection refused")
    }

    @Test(arguments: [("iperf3", "iperf3.json"), ("fio", "fio-randrw.json"), ("fio", "fio-read.json")])
    func truncatedJSON(_ benchmark: String, _ fixture: String) throws {
        let whole = try Self.output(fixture)
        let e = Self.parseError(benchmark, whole.prefix(whole.count / 2), file: fixture)
        guard case .malformed(benchmark, fixture, let reason)? = e else {
            Issue.record("expected malformed, got \(String(describing: e))")
            return
        }
        // JSONSerialization's reason, not JSONDecoder's "The given data was not valid JSON."
        #expect(reason.hasPrefix("not valid JSON: ") && !reason.contains("given data"), "\(reason)")
        #expect(e?.description.hasPrefix("\(benchmark) output \(fixture): not valid JSON") == true)
    }

    @Test func iperf3OutputThatIsNotIperf3s() throws {
        // fio's JSON is valid JSON without end.sum_received.
        let e = Self.parseError(
            "iperf3", try Self.output("fio-randrw.json").drop { $0 != UInt8(ascii: "{") },
            file: "x.json")
        #expect(
            e?.description == "iperf3 output x.json: no end.sum_received (a TCP test's result); "
                + "is this the output of iperf3 -J?")
    }

    @Test func pgbenchThatCouldNotConnect() throws {
        // stdout and stderr of pgbench against a server that is not running.
        let e = Self.parseError("pgbench", try Self.output("pgbench-refused.txt"), file: "pgbench-refused.txt")
        let text = try #require(e?.description)
        #expect(text.hasPrefix("pgbench output pgbench-refused.txt: no \"tps = \" line; the output ends with:\n"))
        #expect(text.hasSuffix("pgbench: error: could not create connection for setup"))
        #expect(text.contains("Is the server running locally"))
    }

    @Test func pgbenchCutBeforeTheTPSLine() throws {
        let lines = try Fixtures.text("bench/pgbench.txt").split(separator: "\n").filter { !$0.hasPrefix("tps = ") }
        #expect(lines.count == 12)
        let e = Self.parseError("pgbench", Data(lines.joined(separator: "\n").utf8), file: "cut.txt")
        #expect(
            e
                == .malformed(
                    benchmark: "pgbench", file: "cut.txt",
                    reason: """
                        no "tps = " line; the output ends with:
                        duration: 2 s
                        number of transactions actually processed: 610
                        number of failed transactions: 0 (0.000%)
                        latency average = 6.552 ms
                        initial connection time = 8.087 ms
                        """))
    }

    @Test(arguments: BenchParsers.benchmarks)
    func emptyOutput(_ benchmark: String) {
        // What redis-benchmark and pgbench write to stdout when they cannot connect.
        let e = Self.parseError(benchmark, Data(), file: "empty")
        #expect(e?.description.hasPrefix("\(benchmark) output empty: ") == true)
    }

    @Test func redisHeaderOnly() throws {
        let header = try Fixtures.text("bench/redis.csv").split(separator: "\n")[0]
        let e = Self.parseError("redis", Data(header.utf8), file: "redis.csv")
        #expect(e == .malformed(benchmark: "redis", file: "redis.csv", reason: "a header but no test rows"))
    }

    @Test func redisWithoutTheCSVHeader() throws {
        // redis 6 printed no header; nestlab reads columns by name, so it needs one.
        let rows = try Fixtures.text("bench/redis.csv").split(separator: "\n").dropFirst().joined(separator: "\n")
        let e = Self.parseError("redis", Data(rows.utf8), file: "redis.csv")
        #expect(e?.description.hasPrefix("redis output redis.csv: the first line is not redis 7's CSV header") == true)
    }

    @Test(arguments: ["-70422.53", "nan", "inf"])
    func redisValueThatIsNotARate(_ bad: String) throws {
        let text = try Fixtures.text("bench/redis.csv").replacingOccurrences(of: "\"70422.53\"", with: "\"\(bad)\"")
        let e = Self.parseError("redis", Data(text.utf8), file: "redis.csv")
        #expect(e == .badValue(benchmark: "redis", file: "redis.csv", metric: "SET", value: "\(Double(bad)!)"))
        #expect(e?.description.hasSuffix("expected a finite number >= 0") == true)
    }

    @Test func stressNGWithoutMetrics() throws {
        // The same run's YAML cut before the metrics: section.
        let text = try Fixtures.text("bench/stress-ng.yaml")
        let metrics = try #require(text.range(of: "metrics:"))
        let cut = String(text[..<metrics.lowerBound])
        let e = Self.parseError("stress-ng", Data(cut.utf8), file: "stress-ng.yaml")
        #expect(
            e?.description == "stress-ng output stress-ng.yaml: no stressors under metrics: "
                + "(was stress-ng run with --metrics?)")
    }

    @Test func stressNGCutInsideAStressor() throws {
        let text = try Fixtures.text("bench/stress-ng.yaml")
        let key = try #require(text.range(of: "      bogo-ops-per-second-real-time"))
        let cut = String(text[..<key.lowerBound])
        let e = Self.parseError("stress-ng", Data(cut.utf8), file: "stress-ng.yaml")
        #expect(
            e
                == .malformed(
                    benchmark: "stress-ng", file: "stress-ng.yaml",
                    reason: "missing key metrics[0].bogo-ops-per-second-real-time"))
    }

    @Test func stressNGGivenAnotherToolsOutput() throws {
        let e = Self.parseError("stress-ng", try Self.output("redis.csv"), file: "stress-ng.yaml")
        #expect(
            e?.description == "stress-ng output stress-ng.yaml: not valid YAML: 1:7: "
                + "did not find expected <document start>")
    }

    @Test func fioWithoutJSON() throws {
        let e = Self.parseError("fio", try Self.output("pgbench-refused.txt"), file: "fio.json")
        #expect(e?.description.hasPrefix("fio output fio.json: no JSON object in the output: pgbench: error:") == true)
    }

    @Test func unknownBenchmark() throws {
        let e = Self.parseError("sysbench", try Self.output("pgbench.txt"), file: "pgbench.txt")
        #expect(e == .unknownBenchmark("sysbench"))
        #expect(
            e?.description
                == "unknown benchmark 'sysbench'; valid benchmarks: iperf3, redis, stress-ng, pgbench, fio")
    }

    @Test func noFileName() throws {
        let e = Self.parseError("iperf3", try Self.output("iperf3-refused.json"), file: "")
        #expect(e?.description.hasPrefix("iperf3 output: iperf3 reported an error: ") == true)
    }
}

extension BenchParsersTests {
    /// docs/results.schema.json, checked with the real `jsonschema` validator on lines that
    /// `ResultsFile.line` writes for every fixture's metrics.
    @Suite("results.schema.json") struct ResultsSchema {
        static let schema = Fixtures.repo.appendingPathComponent("docs/results.schema.json")
        static let hasValidator = (try? Tool.run(["python3", "-c", "import jsonschema"]).status) == 0

        /// Every real output that parses, with its benchmark.
        static let fixtures: [(String, String)] = [
            ("iperf3", "iperf3.json"), ("redis", "redis.csv"), ("stress-ng", "stress-ng.yaml"),
            ("stress-ng", "stress-ng-cpu-matrix.yaml"), ("pgbench", "pgbench.txt"), ("fio", "fio-randrw.json"),
            ("fio", "fio-read.json"), ("fio", "fio-randwrite-noclat.json"),
        ]

        static func lines() throws -> [String] {
            let start = Date(timeIntervalSince1970: 1_796_550_192.125)
            var out: [String] = []
            for (i, (benchmark, fixture)) in fixtures.enumerated() {
                let metrics = try BenchParsersTests.parse(benchmark, fixture)
                for metric in metrics {
                    let s = BenchSample(
                        benchmark: benchmark, metric: metric.name, unit: metric.unit,
                        value: metric.value, direction: metric.direction,
                        environment: "nested-mitigated", runtime: "kata-qemu", machine: "node1",
                        repetition: i % 5 + 1, start: start, end: start + 2.5,
                        parameters: ["duration": "2", "fixture": fixture], raw: "raw/\(fixture)")
                    out.append(try ResultsFile.line(s))
                }
            }
            return out
        }

        /// Runs the validator once over every given line, each in its own file.
        static func validate(_ lines: [String]) throws -> ToolResult {
            let dir = try Fixtures.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            var argv = ["python3", "-W", "ignore::DeprecationWarning", "-m", "jsonschema"]
            for (i, line) in lines.enumerated() {
                let file = dir.appendingPathComponent("line\(i).json")
                try line.write(to: file, atomically: true, encoding: .utf8)
                argv += ["-i", file.path]
            }
            return try Tool.run(argv + [schema.path])
        }

        @Test("every fixture's samples match the schema", .enabled(if: hasValidator))
        func samplesMatch() throws {
            let lines = try Self.lines()
            #expect(lines.count == 2 + 4 + 1 + 2 + 2 + 6 + 3 + 3)
            let r = try Self.validate(lines)
            #expect(r.status == 0, "\(r.all)")
            #expect(r.all.isEmpty, "\(r.all)")
        }

        @Test("the schema names exactly the keys BenchSample writes, all required")
        func schemaKeys() throws {
            let schemaData = try Data(contentsOf: Self.schema)
            let schema = try #require(try JSONSerialization.jsonObject(with: schemaData) as? [String: Any])
            let line = try #require(try Self.lines().first)
            let sample = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect(Set(properties.keys) == Set(sample.keys))
            #expect(Set(try #require(schema["required"] as? [String])) == Set(sample.keys))
            #expect(schema["additionalProperties"] as? Bool == false)
        }

        @Test("the schema rejects bad lines", .enabled(if: hasValidator))
        func schemaRejects() throws {
            let first = try Self.lines()[0]
            let good = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            let cases: [(String, (inout [String: Any]) -> Void)] = [
                ("direction sideways", { $0["direction"] = "sideways" }),
                ("schemaVersion 2", { $0["schemaVersion"] = 2 }),
                ("an unknown benchmark", { $0["benchmark"] = "sysbench" }),
                ("an unknown key", { $0["extra"] = true }),
                ("raw left out", { $0.removeValue(forKey: "raw") }),
                ("an empty machine", { $0["machine"] = "" }),
                ("repetition 0", { $0["repetition"] = 0 }),
                ("a value as a string", { $0["value"] = "4.1" }),
                ("a number parameter", { $0["parameters"] = ["duration": 2] }),
                ("a time without a zone", { $0["start"] = "2026-12-06T09:43:12.125" }),
            ]
            let line = String(decoding: try JSONSerialization.data(withJSONObject: good), as: UTF8.self)
            let ok = try Self.validate([line])
            #expect(ok.status == 0, "the unchanged line must pass: \(ok.all)")
            for (what, change) in cases {
                var o = good
                change(&o)
                let bad = String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
                let r = try Self.validate([bad])
                #expect(r.status != 0, "the schema accepted \(what)")
            }
        }
    }
}
