import Foundation
import Testing

@testable import NestlabCore
@testable import NestlabKit

private typealias S = HandoffTestSupport

/// The ready reporter every seed installs: the real script run by `sh` against a fake guest
/// root (`NESTLAB_ROOT`), its unit checked by `systemd-analyze verify`, and its console line
/// read back by the parser `up` uses.
@Suite struct ReadyReporterTests {
    /// cloud-init writes result.json with `json.dumps(indent=1, sort_keys=True, separators=(",", ": "))`;
    /// python3 writes the fixtures the same way.
    static func resultJSON(errors: [String]) throws -> String {
        let script = """
            import json, sys
            errors = sys.argv[1:]
            print(json.dumps({"v1": {"datasource": "DataSourceNoCloud [seed=/dev/vdb][dsmode=net]", "errors": errors}},
                             indent=1, sort_keys=True, separators=(",", ": ")))
            """
        let r = try S.run(["python3", "-c", script] + errors)
        try #require(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    struct Guest {
        let root: URL
        var disabled: URL { root.appendingPathComponent("etc/cloud/cloud-init.disabled") }

        init(result: String?, disabled: Bool = false, instance: String = "lab-vm-0-0123456789ab") throws {
            root = try S.temporaryDirectory("reporter")
            let fm = FileManager.default
            for d in ["run/cloud-init", "etc/cloud", "var/lib/cloud/data", "proc/sys/kernel/random", "dev"] {
                try fm.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
            }
            if let result {
                try result.write(
                    to: root.appendingPathComponent("run/cloud-init/result.json"), atomically: true, encoding: .utf8)
            }
            if disabled { try "".write(to: self.disabled, atomically: true, encoding: .utf8) }
            try "\(instance)\n".write(
                to: root.appendingPathComponent("var/lib/cloud/data/instance-id"), atomically: true, encoding: .utf8)
            try "6f1c2a3b-0000-4000-8000-000000000000\n".write(
                to: root.appendingPathComponent("proc/sys/kernel/random/boot_id"),
                atomically: true, encoding: .utf8)
            // The "serial console": a plain file the script can write.
            try "".write(to: root.appendingPathComponent("dev/ttyS0"), atomically: true, encoding: .utf8)
        }

        func report(_ args: [String] = []) throws -> (stdout: String, console: String) {
            let script = root.appendingPathComponent("report-ready")
            try CloudInitRenderer.reporterScript.write(to: script, atomically: true, encoding: .utf8)
            let r = try S.run(
                ["sh", script.path] + args, environment: ["NESTLAB_ROOT": root.path, "PATH": "/usr/bin:/bin"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
            let console = try String(contentsOf: root.appendingPathComponent("dev/ttyS0"), encoding: .utf8)
            return (r.stdout, console)
        }
    }

    @Test func successReportsDoneAndTheCleanShutdownSwitchesCloudInitOff() throws {
        let g = try Guest(result: try Self.resultJSON(errors: []))
        defer { try? FileManager.default.removeItem(at: g.root) }
        let out = try g.report()
        let line =
            "NESTLAB ready instance=lab-vm-0-0123456789ab status=done code=0 cloudinit=ran boot=6f1c2a3b-0000-4000-8000-000000000000"
        #expect(out.stdout == line + "\n")
        #expect(out.console == line + "\r\n")
        #expect(ConsoleScanner.event(in: line) == .ready(instance: "lab-vm-0-0123456789ab", ok: true, code: 0))
        // This boot keeps cloud-init on (`cloud-init status` says done); its shutdown switches it off.
        #expect(!FileManager.default.fileExists(atPath: g.disabled.path))
        let stop = try g.report(["stop"])
        #expect(stop.stdout.isEmpty && stop.console == out.console, "stop printed: \(stop)")
        let disabled = try String(contentsOf: g.disabled, encoding: .utf8)
        #expect(disabled.hasPrefix("# Written by nestlab at the shutdown after cloud-init's first successful run."))
        #expect(!FileManager.default.fileExists(atPath: g.disabled.path + ".tmp"))
    }

    @Test func errorsInTheResultReportErrorAndLeaveCloudInitOn() throws {
        let g = try Guest(
            result: try Self.resultJSON(errors: [
                "('scripts_user', RuntimeError('Runparts: 1 failures in 1 attempted commands'))"
            ]))
        defer { try? FileManager.default.removeItem(at: g.root) }
        let out = try g.report()
        #expect(out.stdout.hasPrefix("NESTLAB ready instance=lab-vm-0-0123456789ab status=error code=1 cloudinit=ran "))
        #expect(ConsoleScanner.event(in: out.stdout) == .ready(instance: "lab-vm-0-0123456789ab", ok: false, code: 1))
        _ = try g.report(["stop"])
        #expect(
            !FileManager.default.fileExists(atPath: g.disabled.path),
            "a failed cloud-init must run again at the next boot")
    }

    @Test func aBootWithCloudInitOffReportsTheEarlierSuccess() throws {
        let g = try Guest(result: nil, disabled: true)
        defer { try? FileManager.default.removeItem(at: g.root) }
        let out = try g.report()
        #expect(
            out.stdout.hasPrefix("NESTLAB ready instance=lab-vm-0-0123456789ab status=done code=0 cloudinit=skipped "))
        #expect(ConsoleScanner.event(in: out.console) == .ready(instance: "lab-vm-0-0123456789ab", ok: true, code: 0))
    }

    @Test func noResultAndCloudInitOnIsAnError() throws {
        let g = try Guest(result: nil)
        defer { try? FileManager.default.removeItem(at: g.root) }
        let out = try g.report()
        #expect(
            out.stdout.hasPrefix("NESTLAB ready instance=lab-vm-0-0123456789ab status=error code=2 cloudinit=missing "))
        _ = try g.report(["stop"])
        #expect(!FileManager.default.fileExists(atPath: g.disabled.path))
    }

    @Test func theScriptPassesShellcheck() throws {
        let r = try S.run(
            ["shellcheck", "--shell=sh", "--severity=style", "-"], stdin: Data(CloudInitRenderer.reporterScript.utf8))
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    /// systemd's own check of the unit, with the script in place under a scratch root.
    @Test func theUnitPassesSystemdAnalyzeVerify() throws {
        let root = try S.temporaryDirectory("reporter")
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        let unit = root.appendingPathComponent("etc/systemd/system/nestlab-ready.service")
        let script = root.appendingPathComponent("usr/local/lib/nestlab/report-ready")
        try fm.createDirectory(at: unit.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fm.createDirectory(at: script.deletingLastPathComponent(), withIntermediateDirectories: true)
        try CloudInitRenderer.reporterUnit.write(to: unit, atomically: true, encoding: .utf8)
        try CloudInitRenderer.reporterScript.write(to: script, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let r = try S.run([
            "systemd-analyze", "verify", "--man=no", "--root=\(root.path)", "/etc/systemd/system/nestlab-ready.service",
        ])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
        // A unit systemd would warn about is caught: the check itself can fail.
        try (CloudInitRenderer.reporterUnit + "Bogus=1\n").write(to: unit, atomically: true, encoding: .utf8)
        let bad = try S.run([
            "systemd-analyze", "verify", "--man=no", "--root=\(root.path)", "/etc/systemd/system/nestlab-ready.service",
        ])
        #expect(!bad.stderr.isEmpty, "systemd-analyze did not object to an unknown key")
    }
}

/// The benchmark baseline (Tests/Bench/baseline-by-hand) must do what `up` does, so its
/// seed carries nestlab's reporter and unit verbatim; and the repo's own scripts pass shellcheck.
@Suite struct BenchBaselineTests {
    static let baseline = S.root.appendingPathComponent("Tests/Bench/baseline-by-hand")

    /// `text` as a YAML literal block indented by four spaces (how the user-data carries it).
    static func block(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n") + "\n"
    }

    @Test func theBaselineSeedCarriesNestlabsReporterAndUnit() throws {
        let text = try String(contentsOf: Self.baseline, encoding: .utf8)
        #expect(
            text.contains(Self.block(CloudInitRenderer.reporterScript)),
            "the baseline's report-ready differs from nestlab's")
        #expect(
            text.contains(Self.block(CloudInitRenderer.reporterUnit)),
            "the baseline's nestlab-ready.service differs from nestlab's")
        #expect(text.contains("- [systemctl, enable, --no-block, --now, nestlab-ready.service]"))
    }

    /// Every script of the repo is checked by its language's checker, chosen by its shebang:
    /// shellcheck for sh and bash, Python's own parser for python3. A script in another language fails
    /// the test until a checker is added here.
    @Test func repoScriptsPassShellcheck() throws {
        var shell: [String] = []
        var python: [String] = []
        var unknown: [String] = []
        var files = [S.root.appendingPathComponent(".ci/run").path]
        for dir in ["Tests/Bench", "Tests/Scripts", "topologies/bench"] {
            let d = S.root.appendingPathComponent(dir)
            for name in try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() {
                let path = d.appendingPathComponent(name).path
                if FileManager.default.isExecutableFile(atPath: path) { files.append(path) }
            }
        }
        for path in files {
            let head =
                (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 64)).flatMap { $0 }
                ?? Data()
            let line = String(decoding: head, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            if line.hasSuffix("/sh") || line.hasSuffix("bash") {
                shell.append(path)
            } else if line.hasSuffix("python3") {
                python.append(path)
            } else {
                unknown.append("\(path): \(line)")
            }
        }
        #expect(shell.count >= 8)
        #expect(unknown.isEmpty, "scripts no checker covers: \(unknown)")
        let r = try S.run(["shellcheck", "--severity=style"] + shell)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for p in python {
            let c = try S.run(["python3", "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])", p])
            #expect(c.status == 0, "\(p): \(c.stderr)")
        }
    }
}
