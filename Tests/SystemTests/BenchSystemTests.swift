import Foundation
import NestlabTestSupport
import Testing

/// Issue 19: machines mode on the CI lab's TCG VMs ("nested") and on this host itself over ssh
/// to 127.0.0.1 ("baremetal"), short runs; then `nestlab report` on the results, and the HTML
/// opened in headless Chromium. Called by the lifecycle test on its lab.
extension SystemTests {
    func expectBenchmarksRun(lab: String, state: URL, scratch: URL) throws {
        let results = scratch.appendingPathComponent("results")
        let params = scratch.appendingPathComponent("bench-params.yaml")
        // Small enough for TCG guests of 512 MiB; the paper's sizes are the defaults.
        try """
        redis: {requests: 2000, clients: 10}
        stress-ng: {cpus: 1}
        pgbench: {scale: 1, clients: 2, threads: 1}
        fio: {size: 16M, iodepth: 4, direct: 0}
        """.write(to: params, atomically: true, encoding: .utf8)
        let common = [
            "--repeat", "2", "--duration", "2", "--params", params.path, "--results", results.path, "--plain",
        ]

        let nested = try System.nestlab(["bench", lab, "--environment", "nested"] + common, state: state)
        #expect(nested.status == 0, "bench on the lab's VMs: \(nested.all)")

        // Across the lab network: vm-0 serves, vm-1 is measured (the path Kubernetes mode's
        // server pod takes). Separate results: the report below compares whole environments.
        let split = scratch.appendingPathComponent("results-split")
        let across = try System.nestlab(
            [
                "bench", lab, "--machines", "vm-1", "--server", "vm-0", "--bench", "iperf3,redis,pgbench",
                "--environment", "nested-split", "--repeat", "1", "--duration", "2", "--params", params.path,
                "--results", split.path, "--plain",
            ], state: state)
        #expect(across.status == 0, "bench across the lab network: \(across.all)")
        let splitText = (try? String(contentsOf: split.appendingPathComponent("results.jsonl"), encoding: .utf8)) ?? ""
        let splitBenches = Set(
            splitText.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["benchmark"] as? String
            })
        #expect(splitBenches == ["iperf3", "redis", "pgbench"], "\(splitText.prefix(400))")
        let iperf =
            (try? String(
                contentsOf: split.appendingPathComponent("raw/nested-split/vm-1/iperf3-1.out"), encoding: .utf8)) ?? ""
        #expect(iperf.contains("10.91.0.10"), "iperf3 connected to vm-0's address: \(iperf.prefix(600))")

        // This host as the bare-metal baseline, through a throwaway sshd on 127.0.0.1.
        let sshd = try TestSSHD.start(in: scratch, knownHosts: true)
        defer { sshd.stop() }
        let host = try System.nestlab(
            ["bench", "--ssh", "root@127.0.0.1", "--environment", "baremetal"]
                + sshd.joinedOptions.map { "--ssh-option=\($0)" }
                + common, state: state)
        #expect(host.status == 0, "bench on this host: \(host.all)")

        let lines = try String(contentsOf: results.appendingPathComponent("results.jsonl"), encoding: .utf8).split(
            separator: "\n")
        let samples = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(samples.count == lines.count)
        for (env, machines) in [("nested", ["vm-0", "vm-1"]), ("baremetal", ["root@127.0.0.1"])] {
            for m in machines {
                let mine = samples.filter { $0["environment"] as? String == env && $0["machine"] as? String == m }
                let benches = Set(mine.compactMap { $0["benchmark"] as? String })
                #expect(benches == ["iperf3", "redis", "stress-ng", "pgbench", "fio"], "\(env) \(m): \(benches)")
            }
        }
        let schema = System.repo.appendingPathComponent("docs/results.schema.json")
        let first = scratch.appendingPathComponent("sample.json")
        try String(lines[0]).write(to: first, atomically: true, encoding: .utf8)
        let valid = try System.run([
            "python3", "-W", "ignore::DeprecationWarning", "-m", "jsonschema", "-i", first.path, schema.path,
        ])
        #expect(valid.status == 0, "\(valid.all)")

        // The report: tables for all five, a chart each, self-contained HTML.
        let out = scratch.appendingPathComponent("report")
        let report = try System.nestlab(
            ["report", results.path, "--baseline", "baremetal", "--out", out.path], state: state)
        #expect(report.status == 0, "\(report.all)")
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        for b in ["iperf3", "redis", "stress-ng", "pgbench", "fio"] { #expect(md.contains(b), "report.md lacks \(b)") }
        let pngs = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".png") }
        #expect(pngs.count >= 5, "\(pngs)")
        let again = scratch.appendingPathComponent("report-again")
        _ = try System.nestlab(["report", results.path, "--baseline", "baremetal", "--out", again.path], state: state)
        #expect(
            try String(contentsOf: again.appendingPathComponent("report.md"), encoding: .utf8) == md,
            "the same results, the same tables")

        // Headless Chromium: the page's DOM has every image (each an embedded PNG) and the
        // browser logged no error about the page.
        let html = out.appendingPathComponent("report.html")
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(
            !page.contains("http://") && !page.contains("https://"),
            "the report must not load anything from the network")
        let chromium = try System.run(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                "--virtual-time-budget=5000", "--dump-dom", "file://\(html.path)",
            ],
            env: ["HOME": scratch.path])
        #expect(chromium.status == 0, "\(chromium.stderr)")
        let images = chromium.stdout.components(separatedBy: "<img").count - 1
        #expect(images == pngs.count, "\(images) images in the DOM for \(pngs.count) charts")
        #expect(chromium.stdout.components(separatedBy: "data:image/png;base64,").count - 1 == images)
        let consoleErrors = chromium.stderr.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Uncaught")
        }
        #expect(consoleErrors.isEmpty, "\(consoleErrors)")
    }
}
