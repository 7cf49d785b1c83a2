import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

/// `nestlab report` end to end: results.jsonl files in, report.md, PNG charts drawn by the
/// real plot.py with matplotlib, and a self-contained report.html that Chromium renders.
@Suite("nestlab report writer", .serialized)
struct ReportWriterTests {
    typealias S = HandoffTestSupport

    /// Whether some python3 nestlab would use has matplotlib (Debian's python3-matplotlib).
    static let hasMatplotlib: Bool = ReportWriter.defaultPythons().contains { python in
        (try? S.run([python, "-c", "import matplotlib"]).status) == 0
    }

    static let hasChromium = S.has("chromium")

    static func sample(
        _ benchmark: String, _ metric: String, _ unit: String, _ direction: BenchSample.Direction,
        _ environment: String, _ runtime: String, _ repetition: Int, _ value: Double
    ) -> BenchSample {
        let start = Date(timeIntervalSince1970: 1_700_000_000 + Double(repetition) * 60)
        return BenchSample(
            benchmark: benchmark, metric: metric, unit: unit, value: value, direction: direction,
            environment: environment, runtime: runtime, machine: "\(environment)-1",
            repetition: repetition, start: start, end: start.addingTimeInterval(10),
            parameters: [:], raw: "raw/\(benchmark)-\(repetition).txt")
    }

    /// Two benchmarks (three metrics, so three charts), three environments, deterministic values.
    static var samples: [BenchSample] {
        let jitter = [-0.02, 0.01, 0.0, 0.015, -0.005]
        let series: [(String, String, Double)] = [
            ("baremetal", "none", 1.0), ("nested", "runc", 0.92), ("nested", "kata-qemu", 0.74),
            ("nested-mitigated", "runc", 0.9), ("nested-mitigated", "kata-qemu", 0.63),
        ]
        var out: [BenchSample] = []
        for (env, rt, f) in series {
            for r in 1...5 {
                let j = 1 + jitter[r - 1]
                out.append(sample("iperf3", "throughput", "Gbit/s", .higher, env, rt, r, 9.4 * f * j))
                out.append(sample("redis", "GET", "requests/s", .higher, env, rt, r, 180_000 * f * j))
                out.append(sample("redis", "latency", "ms", .lower, env, rt, r, 0.25 / f * j))
            }
        }
        return out
    }

    /// Writes the samples as two inputs: a results folder (baremetal, nested) and a loose file (the rest).
    static func writeInputs(in dir: URL) throws -> [String] {
        let folder = dir.appendingPathComponent("run-a")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let a = samples.filter { $0.environment != "nested-mitigated" }
        let b = samples.filter { $0.environment == "nested-mitigated" }
        try a.map(ResultsFile.line).joined().write(
            to: folder.appendingPathComponent(ResultsFile.name),
            atomically: true, encoding: .utf8)
        let file = dir.appendingPathComponent("mitigated.jsonl")
        try b.reversed().map(ResultsFile.line).joined().write(to: file, atomically: true, encoding: .utf8)
        return [folder.path, file.path]
    }

    /// What Python's own struct and zlib read from a PNG: size, chunk types, text keys; every CRC checked.
    static func readPNG(_ url: URL) throws -> [String: Any] {
        let script = """
            import json, struct, sys, zlib
            data = open(sys.argv[1], "rb").read()
            assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "signature"
            pos, chunks, idat, text = 8, [], b"", []
            while pos < len(data):
                (n,) = struct.unpack(">I", data[pos:pos + 4])
                kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
                (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
                assert zlib.crc32(kind + body) & 0xffffffff == crc, "crc of " + kind.decode()
                chunks.append(kind.decode())
                if kind == b"IHDR":
                    w, h, depth, colour = struct.unpack(">IIBB", body[:10])
                elif kind == b"IDAT":
                    idat += body
                elif kind in (b"tEXt", b"iTXt", b"zTXt"):
                    text.append(body.split(b"\\0")[0].decode())
                pos += 12 + n
            channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
            raw = zlib.decompress(idat)
            assert len(raw) == h * (1 + w * channels * depth // 8), "pixel data size"
            print(json.dumps({"width": w, "height": h, "chunks": chunks, "text": text}))
            """
        let r = try S.run(["python3", "-c", script, url.path])
        try #require(r.status == 0, "\(url.lastPathComponent): \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    // MARK: the whole report

    @Test("report.md, the PNGs and report.html", .enabled(if: hasMatplotlib))
    func writesEverything() throws {
        let dir = try S.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = try Self.writeInputs(in: dir)
        let out = dir.appendingPathComponent("out/nested-dir")
        var printed: [String] = []
        let outcome = try ReportWriter.write(inputs: inputs, baseline: "baremetal", out: out.path) {
            printed.append($0)
        }

        let report = try BenchReport.build(samples: Self.samples, baseline: "baremetal")
        #expect(report.charts.map(\.file) == ["iperf3-throughput.png", "redis-GET.png", "redis-latency.png"])
        let expected = ["report.md", "charts.json"] + report.charts.map(\.file) + ["report.html"]
        #expect(outcome.files == expected.map { out.appendingPathComponent($0).path })
        #expect(printed == outcome.files)
        #expect(outcome.charts == report.charts.map { out.appendingPathComponent($0.file).path })
        #expect(outcome.samples == Self.samples.count)

        let attrs = try FileManager.default.attributesOfItem(atPath: out.path)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o755)

        // report.md is exactly what the engine renders.
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md == report.markdown())
        #expect(md.contains("![iperf3 throughput: ratio to baremetal per series](iperf3-throughput.png)"))

        // Each PNG really is one: signature, CRCs, IHDR, pixel data; no Software text.
        var pngs: [String: Data] = [:]
        for chart in report.charts {
            let url = out.appendingPathComponent(chart.file)
            let data = try Data(contentsOf: url)
            #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let png = try Self.readPNG(url)
            #expect(png["width"] as? Int == 900)
            #expect(png["height"] as? Int == 480)
            #expect((png["chunks"] as? [String])?.first == "IHDR")
            #expect((png["chunks"] as? [String])?.last == "IEND")
            #expect(!((png["text"] as? [String]) ?? []).contains("Software"))
            pngs[chart.file] = data
        }

        // The page embeds every PNG and loads nothing from elsewhere.
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html == report.html(images: pngs))
        for (file, data) in pngs {
            #expect(html.contains("src=\"data:image/png;base64,\(data.base64EncodedString())\""), "\(file)")
        }
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"file"))
    }

    @Test("the same results give the same files, PNGs included", .enabled(if: hasMatplotlib))
    func deterministic() throws {
        let dir = try S.temporaryDirectory("report-det")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = try Self.writeInputs(in: dir)
        let one = try ReportWriter.write(
            inputs: inputs, baseline: "baremetal",
            out: dir.appendingPathComponent("1").path)
        // The other order of inputs.
        let two = try ReportWriter.write(
            inputs: inputs.reversed(), baseline: "baremetal",
            out: dir.appendingPathComponent("2").path)
        for (a, b) in zip(one.files, two.files) {
            #expect(
                FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b),
                "\(URL(fileURLWithPath: a).lastPathComponent) differs")
        }
    }

    @Test(
        "Chromium renders report.html: every image, every table, no console errors",
        .enabled(if: hasMatplotlib && hasChromium))
    func chromiumRendersThePage() throws {
        let dir = try S.temporaryDirectory("report-chromium")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let outcome = try ReportWriter.write(
            inputs: try Self.writeInputs(in: dir), baseline: "baremetal",
            out: out.path)
        let page = out.appendingPathComponent("report.html")
        let report = try BenchReport.build(samples: Self.samples, baseline: "baremetal")

        func chromium(_ url: URL, logging: Bool) throws -> HandoffTestSupport.Output {
            var argv = [
                "timeout", "120", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
            ]
            if logging { argv += ["--enable-logging=stderr", "--v=0"] }
            return try S.run(argv + ["--dump-dom", url.absoluteString])
        }

        let dom = try chromium(page, logging: false)
        try #require(dom.status == 0, "\(dom.stderr.suffix(2000))")
        let images = dom.stdout.components(separatedBy: "<img src=\"data:image/png;base64,").count - 1
        #expect(images == outcome.charts.count)
        let tables = report.document.blocks.filter { if case .table = $0 { return true } else { return false } }.count
        #expect(dom.stdout.components(separatedBy: "<table>").count - 1 == tables)
        #expect(dom.stdout.contains("<th>ratio [95% CI]</th>"))
        #expect(dom.stdout.contains("<td>nested-mitigated</td><td>kata-qemu</td>"))
        #expect(dom.stdout.contains("<h2>Missing</h2>"))

        // Console messages name their page: none may come from the report.
        func consoleLines(_ r: HandoffTestSupport.Output, _ url: URL) -> [String] {
            r.stderr.split(separator: "\n").map(String.init).filter {
                $0.contains("Uncaught") || $0.contains("ERROR:CONSOLE")
                    || ($0.contains(":CONSOLE") && $0.contains(url.lastPathComponent))
            }
        }
        let logged = try chromium(page, logging: true)
        #expect(logged.status == 0)
        #expect(consoleLines(logged, page) == [])

        // The check can fail: a page that reaches outside (blocked by the same policy) is reported.
        let bad = dir.appendingPathComponent("outside.html")
        let badHTML = report.html(images: [:]).replacingOccurrences(
            of: "</body>", with: "<img src=\"https://example.invalid/x.png\" alt=\"x\">\n</body>")
        try badHTML.write(to: bad, atomically: true, encoding: .utf8)
        let control = try chromium(bad, logging: true)
        #expect(consoleLines(control, bad).contains { $0.contains("Content Security Policy") })
    }

    // MARK: failures

    @Test("without matplotlib: report.md is written, the error names python3-matplotlib (exit 1)")
    func noMatplotlib() throws {
        let dir = try S.temporaryDirectory("report-nompl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let inputs = try Self.writeInputs(in: dir)
        var caught: (any Error)?
        do {
            try ReportWriter.write(
                inputs: inputs, baseline: "baremetal", out: out.path,
                pythons: ["/nonexistent/python3", "/nonexistent/python3.11"])
        } catch {
            caught = error
        }
        let error = try #require(caught)
        #expect(error is OperationError)
        #expect(NestlabExit.code(for: error) == 1)
        #expect("\(error)".contains("python3-matplotlib"))
        #expect("\(error)".contains("/nonexistent/python3: not found"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
    }

    @Test("a python3 without matplotlib is skipped for the next one")
    func pythonWithoutMatplotlibFallsThrough() throws {
        let dir = try S.temporaryDirectory("report-fallback")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A python3 that says what plot.py says when matplotlib is missing.
        let fake = dir.appendingPathComponent("python3-without-matplotlib")
        try "#!/bin/sh\necho 'matplotlib is missing' >&2\nexit 3\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let out = dir.appendingPathComponent("out")
        let inputs = try Self.writeInputs(in: dir)
        do {
            try ReportWriter.write(inputs: inputs, baseline: "baremetal", out: out.path, pythons: [fake.path])
            Issue.record("charts drawn without matplotlib")
        } catch {
            #expect("\(error)".contains("\(fake.path): no matplotlib"))
            #expect("\(error)".contains("python3-matplotlib"))
        }
        if Self.hasMatplotlib {
            let outcome = try ReportWriter.write(
                inputs: inputs, baseline: "baremetal", out: out.path,
                pythons: [fake.path] + ReportWriter.defaultPythons())
            #expect(outcome.charts.count == 3)
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        }
    }

    @Test("bad inputs are usage errors (exit 2) that say what is wrong with each")
    func badInputs() throws {
        let dir = try S.temporaryDirectory("report-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty-folder")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let broken = dir.appendingPathComponent("broken.jsonl")
        try "{\"not\": \"a sample\"}\n".write(to: broken, atomically: true, encoding: .utf8)
        let missing = dir.appendingPathComponent("missing.jsonl").path
        let out = dir.appendingPathComponent("out").path

        var caught: (any Error)?
        do {
            try ReportWriter.write(
                inputs: [missing, empty.path, "/dev/null", broken.path], baseline: "baremetal",
                out: out)
        } catch {
            caught = error
        }
        let error = try #require(caught)
        #expect(NestlabExit.code(for: error) == 2)
        let lines = "\(error)".split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "\(missing): no such file or folder")
        #expect(lines[1] == "\(empty.path): a folder without results.jsonl")
        #expect(lines[2] == "/dev/null: neither a file nor a folder")
        #expect(lines[3].hasPrefix("\(broken.path):1: not a results sample"))
        #expect(!FileManager.default.fileExists(atPath: out))

        // An unknown baseline names the environments there are.
        let inputs = try Self.writeInputs(in: dir)
        do {
            try ReportWriter.write(inputs: inputs, baseline: "bare-metal", out: out)
            Issue.record("an unknown baseline was accepted")
        } catch {
            #expect(NestlabExit.code(for: error) == 2)
            #expect(
                "\(error)" == "no samples from the baseline environment 'bare-metal'; environments present: "
                    + "baremetal, nested, nested-mitigated")
        }

        // --out naming a file.
        do {
            try ReportWriter.write(inputs: inputs, baseline: "baremetal", out: broken.path)
            Issue.record("a file was accepted as --out")
        } catch {
            #expect(NestlabExit.code(for: error) == 2)
            #expect("\(error)".contains("is a file, not a folder"))
        }
    }

    @Test("--output json describes what was written", .enabled(if: hasMatplotlib))
    func jsonOutcome() throws {
        let dir = try S.temporaryDirectory("report-json")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try ReportWriter.write(
            inputs: try Self.writeInputs(in: dir), baseline: "baremetal",
            out: dir.appendingPathComponent("out").path)
        let json = try JSONOutput.string(outcome)
        let decoded = try JSONDecoder().decode(ReportOutcome.self, from: Data(json.utf8))
        #expect(decoded == outcome)
        #expect(json.contains("\"baseline\" : \"baremetal\""))
    }
}
