import Foundation
import Testing

@testable import NestlabCore

/// docs/example-report is real data, and its tables are what `nestlab report` makes of its
/// results.jsonl, byte for byte (issue 19: the same results give the same tables).
@Suite struct ExampleReportTests {
    @Test func theExampleReportRegeneratesFromItsResults() throws {
        let dir = Fixtures.repo.appendingPathComponent("docs/example-report")
        let text = try String(contentsOf: dir.appendingPathComponent("results.jsonl"), encoding: .utf8)
        let samples = try ResultsFile.parse(text, file: "results.jsonl")
        #expect(Set(samples.map(\.benchmark)) == ["iperf3", "redis", "stress-ng", "pgbench", "fio"])
        #expect(Set(samples.map(\.environment)) == ["baremetal", "nested"])
        #expect(samples.allSatisfy { $0.repetition >= 1 && $0.repetition <= 2 })
        for s in samples {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(s.raw).path), "\(s.raw)")
        }
        let report = try BenchReport.build(samples: samples, baseline: "baremetal")
        let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(
            report.markdown() == md,
            "regenerate with Tests/Bench/example-report, or `nestlab report docs/example-report --baseline baremetal --out docs/example-report`"
        )
    }
}
