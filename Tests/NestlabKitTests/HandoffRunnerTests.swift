import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

/// Collects what the runner echoes to the "terminal".
final class HandoffEcho: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [(HandoffRunner.Stream, [UInt8])] = []

    func record(_ s: HandoffRunner.Stream, _ b: [UInt8]) { lock.withLock { chunks.append((s, b)) } }

    func text(_ s: HandoffRunner.Stream) -> String {
        lock.withLock { String(decoding: chunks.filter { $0.0 == s }.flatMap(\.1), as: UTF8.self) }
    }
}

@Suite("handoff runner")
struct HandoffRunnerTests {
    typealias S = HandoffTestSupport

    /// A lab folder with a topology whose handoff runs `script` (written as bench/run).
    struct Fixture {
        var dir: URL
        var topology: Topology
        var testbed: URL { dir.appendingPathComponent("state/testbed.json") }
        var log: URL { dir.appendingPathComponent("state/logs/nestlab.log") }
        var kubeconfig: String { dir.appendingPathComponent("state/kubeconfig-c").path }

        init(script: String?, handoff: String = "command: [./bench/run, --suite, \"two words\"]") throws {
            dir = try S.temporaryDirectory("handoff")
            if let script {
                let bench = dir.appendingPathComponent("bench")
                try FileManager.default.createDirectory(at: bench, withIntermediateDirectories: true)
                let run = bench.appendingPathComponent("run")
                try Data(script.utf8).write(to: run)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: run.path)
            }
            let yaml = """
                name: handoff-test
                machines: []
                handoff:
                  \(handoff)
                  env:
                    BENCH_DURATION: "5"
                    KUBECONFIG: /not/this/one
                """
            let file = dir.appendingPathComponent("lab.yaml").path
            (topology, _) = try TopologyParser(environment: [:]).load(data: Data(yaml.utf8), file: file)
        }

        func runner(echo: HandoffEcho? = nil, base: [String: String] = ["PATH": "/usr/bin:/bin", "HOME": "/root"])
            throws -> HandoffRunner
        {
            let handoff = try #require(topology.handoff)
            if let echo {
                return HandoffRunner(
                    handoff: handoff, topologyFile: topology.file, kubeconfig: kubeconfig, testbed: testbed,
                    logFile: log, baseEnvironment: base, echo: { echo.record($0, $1) })
            }
            return HandoffRunner(
                handoff: handoff, topologyFile: topology.file, kubeconfig: kubeconfig, testbed: testbed,
                logFile: log, baseEnvironment: base, echo: { _, _ in })
        }

        func logText() throws -> String { try String(contentsOf: log, encoding: .utf8) }
    }

    @Test("the command gets KUBECONFIG, NESTLAB_TESTBED, handoff.env, its arguments and the topology's folder")
    func environment() async throws {
        let f = try Fixture(
            script: """
                #!/bin/sh
                {
                  echo "KUBECONFIG=$KUBECONFIG"
                  echo "NESTLAB_TESTBED=$NESTLAB_TESTBED"
                  echo "BENCH_DURATION=$BENCH_DURATION"
                  echo "HOME=$HOME"
                  echo "PWD=$(pwd)"
                  for a in "$@"; do echo "ARG=$a"; done
                } > seen.env
                """)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let code = try await f.runner().run()
        #expect(code == 0)
        let seen = try String(contentsOf: f.dir.appendingPathComponent("seen.env"), encoding: .utf8)
        #expect(
            seen == """
                KUBECONFIG=\(f.kubeconfig)
                NESTLAB_TESTBED=\(f.testbed.path)
                BENCH_DURATION=5
                HOME=/root
                PWD=\(f.dir.standardizedFileURL.path)
                ARG=--suite
                ARG=two words

                """)
    }

    @Test("handoff.workdir is where the command runs and what its path is relative to")
    func workdir() async throws {
        let f = try Fixture(script: "#!/bin/sh\npwd > \"$OUT\"\n", handoff: "command: [./run]\n  workdir: bench")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let out = f.dir.appendingPathComponent("pwd.txt").path
        try await f.runner(base: ["PATH": "/usr/bin:/bin", "OUT": out]).run()
        #expect(
            try String(contentsOfFile: out, encoding: .utf8) == f.dir.appendingPathComponent("bench")
                .standardizedFileURL.path + "\n")
    }

    @Test("exit code 0 returns 0, and 3 is an error carrying 3")
    func exitCodes() async throws {
        let ok = try Fixture(script: "#!/bin/sh\nexit 0\n")
        defer { try? FileManager.default.removeItem(at: ok.dir) }
        #expect(try await ok.runner().run() == 0)

        let bad = try Fixture(script: "#!/bin/sh\necho partial results\nexit 3\n")
        defer { try? FileManager.default.removeItem(at: bad.dir) }
        do {
            try await bad.runner().run()
            Issue.record("exit 3 did not throw")
        } catch let e as HandoffError {
            #expect(e == .failed(command: "./bench/run", exitCode: 3, log: bad.log.path))
            #expect(e.exitCode == 3)
            #expect(
                e.description
                    == "handoff command ./bench/run exited with 3; its output is in \(bad.log.path); the testbed is still up"
            )
        }
        #expect(try bad.logText().contains("partial results\n== handoff exited with 3 after "))
    }

    @Test("the command starts with no blocked signals, so Ctrl-C and kill reach it")
    func signalMask() async throws {
        // exec: the shell blocks every signal while it waits for a child, so read the mask
        // of the process the command starts as, not of a shell waiting for grep.
        let f = try Fixture(script: "#!/bin/sh\nexec grep -E '^Sig(Blk|Ign):' /proc/self/status > mask.txt\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        try await f.runner().run()
        let mask = try String(contentsOf: f.dir.appendingPathComponent("mask.txt"), encoding: .utf8)
        #expect(mask.hasPrefix("SigBlk:\t0000000000000000\n"), "\(mask)")
    }

    @Test("a command killed by a signal is reported with it")
    func signal() async throws {
        let f = try Fixture(script: "#!/bin/sh\nkill -TERM $$\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        await #expect(throws: HandoffError.signaled(command: "./bench/run", signal: 15, log: f.log.path)) {
            try await f.runner().run()
        }
        #expect(HandoffError.signaled(command: "x", signal: 15, log: "l").exitCode == 143)
    }

    @Test("a missing command is a clear error, and nothing runs")
    func missing() async throws {
        let f = try Fixture(script: nil)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let dir = f.dir.standardizedFileURL.path
        await #expect(throws: HandoffError.commandNotFound(command: "./bench/run", workdir: dir)) {
            try await f.runner().run()
        }
        #expect(
            HandoffError.commandNotFound(command: "./bench/run", workdir: dir).description
                == "handoff command ./bench/run not found (relative to \(dir)); fix handoff.command or handoff.workdir")
        #expect(!FileManager.default.fileExists(atPath: f.log.path))

        let byName = try Fixture(script: nil, handoff: "command: [nestlab-no-such-runner]")
        defer { try? FileManager.default.removeItem(at: byName.dir) }
        await #expect(throws: HandoffError.commandNotInPath(command: "nestlab-no-such-runner", path: "/usr/bin:/bin")) {
            try await byName.runner().run()
        }
    }

    @Test("a file that is not executable is named")
    func notExecutable() async throws {
        let f = try Fixture(script: "#!/bin/sh\nexit 0\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let run = f.dir.appendingPathComponent("bench/run")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: run.path)
        await #expect(throws: HandoffError.notExecutable(run.standardizedFileURL.path)) { try await f.runner().run() }
    }

    @Test("a command found on PATH runs")
    func onPath() async throws {
        let f = try Fixture(script: nil, handoff: "command: [sh, -c, \"echo from-path; exit 0\"]")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let echo = HandoffEcho()
        #expect(try await f.runner(echo: echo).run() == 0)
        #expect(echo.text(.standardOutput) == "from-path\n")
    }

    @Test("stdout and stderr reach the terminal and the lab log")
    func output() async throws {
        let f = try Fixture(
            script: """
                #!/bin/sh
                echo "result line 1"
                echo "warning: slow node" >&2
                echo "result line 2"
                printf 'no newline at the end'
                exit 0
                """)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        // An earlier run's log is appended to, not replaced.
        try FileManager.default.createDirectory(
            at: f.log.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("up: done\n".utf8).write(to: f.log)

        let echo = HandoffEcho()
        try await f.runner(echo: echo).run()
        #expect(echo.text(.standardOutput) == "result line 1\nresult line 2\nno newline at the end")
        #expect(echo.text(.standardError) == "warning: slow node\n")

        let log = try f.logText()
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "up: done")
        #expect(lines[1].hasPrefix("== nestlab handoff 20"))
        #expect(lines[1].hasSuffix(": ./bench/run --suite 'two words' (in \(f.dir.standardizedFileURL.path))"))
        // The streams are separate pipes, so only the order within each is fixed.
        let body = Array(lines[2..<6])
        #expect(body.filter { $0.hasPrefix("result") } == ["result line 1", "result line 2"])
        #expect(Set(body) == ["result line 1", "result line 2", "warning: slow node", "no newline at the end"])
        #expect(lines[6].hasPrefix("== handoff exited with 0 after "))
        #expect(lines.last == "")
    }

    @Test("the log is created 0600 in a 0700 folder")
    func logMode() async throws {
        let f = try Fixture(script: "#!/bin/sh\necho hi\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        try await f.runner().run()
        let fm = FileManager.default
        #expect(try fm.attributesOfItem(atPath: f.log.path)[.posixPermissions] as? Int == 0o600)
        #expect(
            try fm.attributesOfItem(atPath: f.log.deletingLastPathComponent().path)[.posixPermissions] as? Int == 0o700)
    }

    @Test("a large, fast output is not lost")
    func volume() async throws {
        let f = try Fixture(script: "#!/bin/sh\nseq 1 200000\nseq 1 1000 >&2\n")
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let echo = HandoffEcho()
        try await f.runner(echo: echo).run()
        let expected = (1...200_000).map(String.init).joined(separator: "\n") + "\n"
        #expect(echo.text(.standardOutput) == expected)
        let log = try f.logText()
        #expect(log.contains("\n199999\n200000\n"))
        #expect(log.split(separator: "\n").count == 200_000 + 1000 + 2)
    }

    @Test("shell quoting in the log header")
    func quoting() {
        #expect(
            HandoffRunner.shellQuoted(["./run", "--results", "a b", "it's", ""])
                == "./run --results 'a b' 'it'\\''s' ''")
    }
}
