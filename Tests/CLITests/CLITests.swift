import Foundation
import Spawn
import Testing

/// The built `nestlab` binary, run end to end: help, exit codes, messages, files.
@Suite("nestlab command line")
struct CLITests {
    @Test("the root help lists every command and the exit codes")
    func rootHelp() throws {
        let cli = try CLI()
        let r = try cli.run("--help")
        #expect(r.status == 0)
        #expect(r.stdout.contains("Provision repeatable nested Kubernetes testbeds on libvirt/KVM."))
        #expect(r.stdout.contains("Exit codes: 0 success, 1 an operation failed, 2 bad input"))
        for sub in [
            "validate", "plan", "preflight", "up", "status", "down", "rebuild", "ssh", "exec", "console", "ssh-config",
            "inventory",
        ] {
            #expect(r.stdout.range(of: "\n  \(sub) ", options: []) != nil, "\(sub) is not listed")
        }
        #expect(try cli.run("--version").stdout == "0.1.0\n")
    }

    @Test(
        "each command's help says what it does",
        arguments: [
            ("validate", "Check a topology file and report every problem at once."),
            ("plan", "Show what `up` would create or change, without changing anything."),
            ("preflight", "Check that the hosts can run the lab"),
            ("up", "Create or converge a lab"),
            ("status", "Show each machine of a lab as libvirt reports it."),
            ("down", "Remove exactly the lab's objects from libvirt; nothing else."),
            ("rebuild", "Tear a lab (or some machines) down and bring it back identically."),
        ])
    func subcommandHelp(command: String, abstract: String) throws {
        let cli = try CLI()
        let r = try cli.run(command, "--help")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("OVERVIEW: \(abstract)"))
        #expect(r.stdout.contains("USAGE: nestlab \(command)"))
        #expect(r.stdout.contains("--output <output>"))
        #expect(r.stderr.isEmpty)
    }

    @Test(
        "command-line mistakes exit 2 with argument-parser's message",
        arguments: [
            (["validate", "--frobnicate", "x.yaml"], "Error: Unknown option '--frobnicate'"),
            (["validate"], "Error: Missing expected argument '<file>'"),
            (["up", "x.yaml", "--parallel", "0"], "Error: --parallel must be from 1 to 64"),
            (
                ["up", "x.yaml", "--boot-limit", "many"],
                "Error: The value 'many' is invalid for '--boot-limit <auto|none|N>'"
            ),
            (
                ["rebuild", "x.yaml", "--boot-limit", "0"],
                "Error: The value '0' is invalid for '--boot-limit <auto|none|N>'"
            ),
            (["up", "x.yaml", "--timeout", "0"], "Error: --timeout must be positive"),
            (["rebuild", "x.yaml", "--timeout", "0"], "Error: --timeout must be positive"),
            (["rebuild", "x.yaml", "--boot-stall=-1"], "Error: --boot-stall must be 0 (off) or positive"),
            (["rebuild", "x.yaml", "--cluster-timeout", "0"], "Error: --cluster-timeout must be positive"),
            (["launch"], "Error: Unexpected argument 'launch'"),
            (["validate", "--output", "xml", "x.yaml"], "Error: The value 'xml' is invalid for '--output <output>'"),
        ])
    func usageErrors(args: [String], message: String) throws {
        let cli = try CLI()
        let r = try cli.run(args)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test(
        "the commands that reach a lab refuse bad input with exit 2 and what is valid",
        arguments: [
            (["exec", "nolab"], "error: give the command after --, e.g. nestlab exec nolab -- hostname"),
            (["exec", "nolab", "--parallel", "0", "--", "true"], "error: --parallel must be at least 1"),
            (
                ["exec", "nolab", "--timeout", "nan", "--", "true"],
                "error: --timeout must be a positive number of seconds"
            ),
            (
                ["exec", "nolab", "--", "true"],
                "error: there is no lab 'nolab'; no lab is up (nestlab up TOPOLOGY brings one up)"
            ),
            (["ssh", "nolab", "vm-0"], "error: there is no lab 'nolab'; no lab is up"),
            (["ssh", "Bad/Lab", "vm-0"], "error: 'Bad/Lab' is not a lab name (lower-case letters, digits and '-')"),
            (["console", "nolab", "vm-0"], "error: there is no lab 'nolab'"),
            (["ssh-config", "nolab"], "error: there is no lab 'nolab'"),
            (["inventory", "nolab", "--list"], "error: there is no lab 'nolab'"),
            (["inventory", "nolab", "--list", "--host", "a"], "Error: give --list or --host, not both"),
        ])
    func accessUsageErrors(args: [String], message: String) throws {
        let cli = try CLI()
        let r = try cli.run(args)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.hasPrefix(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("validate: a good file exits 0 and says what it holds")
    func validateGood() throws {
        let cli = try CLI()
        let f = try cli.write("good.yaml", cli.goodTopology())
        let r = try cli.run("validate", f)
        #expect(r.status == 0)
        #expect(r.stdout == "good.yaml: lab 'cli' is valid: 2 machines, 1 network, 0 clusters\n")
        #expect(r.stderr.isEmpty)
    }

    static let badTopology = """
        name: cli
        networks:
          lab: {mode: nat, cidr: 10.77.0.0/24}
        images:
          deb: {file: /nonexistent/disk.qcow2}
        machines:
          - name: a
            image: deb
            vcpu: 2
            memory: 100MiB
            network: {lab: 10.77.1.5}

        """

    static let badMessages = [
        "bad.yaml:5:15: error: images.deb.file: '/nonexistent/disk.qcow2' does not exist; fix the path (a relative one is taken from the topology's folder), or create the file first",
        "bad.yaml:9:5: error: machines.a.vcpu: unknown key 'vcpu'; did you mean 'vcpus'?",
        "bad.yaml:10:13: error: machines.a.memory: 100MiB is too little memory for a Linux guest; at least 256MiB",
        "bad.yaml:11:20: error: machines.a.network.lab: address 10.77.1.5 is outside network 'lab' 10.77.0.0/24; an address from 10.77.0.2 to 10.77.0.254",
    ]

    @Test("validate: a bad file exits 2 with every problem as file:line:col on stderr")
    func validateBad() throws {
        let cli = try CLI()
        let f = try cli.write("bad.yaml", Self.badTopology)
        let r = try cli.run("validate", f)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == Self.badMessages.joined(separator: "\n") + "\nbad.yaml: 4 errors\n")
    }

    @Test("validate --output json gives the diagnostics as JSON on stdout")
    func validateJSON() throws {
        let cli = try CLI()
        let f = try cli.write("bad.yaml", Self.badTopology)
        let r = try cli.run("validate", "--output", "json", f)
        #expect(r.status == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["valid"] as? Bool == false)
        #expect(json["file"] as? String == "bad.yaml")
        let diags = try #require(json["diagnostics"] as? [[String: Any]])
        #expect(
            diags.map { "\($0["file"] as? String ?? ""):\($0["line"] as? Int ?? 0):\($0["column"] as? Int ?? 0)" }
                == ["bad.yaml:5:15", "bad.yaml:9:5", "bad.yaml:10:13", "bad.yaml:11:20"])
        #expect(diags.map { $0["severity"] as? String } == ["error", "error", "error", "error"])
        #expect(diags.first?["message"] as? String == "'/nonexistent/disk.qcow2' does not exist")
        #expect(diags.dropFirst().first?["path"] as? String == "machines.a.vcpu")
        #expect(diags.dropFirst().first?["message"] as? String == "unknown key 'vcpu'")
        #expect(diags.dropFirst().first?["hint"] as? String == "did you mean 'vcpus'?")

        let g = try cli.write("good.yaml", cli.goodTopology())
        let ok = try cli.run("validate", "--output", "json", g)
        #expect(ok.status == 0)
        let good = try #require(try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any])
        #expect(good["valid"] as? Bool == true)
        #expect(good["lab"] as? String == "cli")
        #expect(good["machines"] as? [String] == ["vm-0", "vm-1"])
    }

    @Test("plan --offline --render writes every file up would send")
    func planRender() throws {
        let cli = try CLI()
        let f = try cli.write("good.yaml", cli.goodTopology())
        let out = cli.dir.appendingPathComponent("rendered")
        let r = try cli.run("plan", "--offline", "--output", "json", "--render", out.path, f)
        #expect(r.status == 0, "\(r.stderr)")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let machines = try #require(plan["machines"] as? [[String: Any]])
        #expect(machines.map { $0["name"] as? String } == ["vm-0", "vm-1"])
        #expect(machines.map { $0["action"] as? String } == ["create", "create"])

        let fm = FileManager.default
        #expect(
            try fm.contentsOfDirectory(atPath: out.path).sorted() == [
                "network-cli-lab.xml", "pool-h1-nestlab-cli.xml", "pool-h1-nestlab-images.xml", "vm-0", "vm-1",
            ])
        for m in machines {
            let name = try #require(m["name"] as? String)
            let seed = try #require(m["seed"] as? String)
            let dir = out.appendingPathComponent(name)
            #expect(
                try fm.contentsOfDirectory(atPath: dir.path).sorted()
                    == [
                        "domain.xml", "meta-data", "network-config", "overlay.xml", seed, "user-data",
                    ].sorted())
            for secret in ["user-data", "meta-data", "network-config", seed] {
                let mode =
                    try fm.attributesOfItem(atPath: dir.appendingPathComponent(secret).path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(name)/\(secret)")
            }
            // What was rendered is valid for libvirt's own schema, and the seed holds the user-data.
            try tool("/usr/bin/virt-xml-validate", [dir.appendingPathComponent("domain.xml").path, "domain"])
            try tool("/usr/bin/virt-xml-validate", [dir.appendingPathComponent("overlay.xml").path, "storagevol"])
            let iso = dir.appendingPathComponent(seed).path
            #expect(try tool("/usr/bin/isoinfo", ["-d", "-i", iso]).contains("Volume id: cidata"))
            let inside = try tool("/usr/bin/isoinfo", ["-J", "-i", iso, "-x", "/user-data"])
            #expect(inside == (try String(contentsOf: dir.appendingPathComponent("user-data"), encoding: .utf8)))
            let domain = try String(contentsOf: dir.appendingPathComponent("domain.xml"), encoding: .utf8)
            #expect(domain.contains("<name>cli-\(name)</name>"))
            #expect(domain.contains("<domain type=\"qemu\">") || domain.contains("<domain type='qemu'>"))
        }
        try tool("/usr/bin/virt-xml-validate", [out.appendingPathComponent("network-cli-lab.xml").path, "network"])
        try tool(
            "/usr/bin/virt-xml-validate", [out.appendingPathComponent("pool-h1-nestlab-cli.xml").path, "storagepool"])
        // A dry run: no SSH key, host key, token or CA was written to the lab's state.
        #expect(
            !fm.fileExists(atPath: cli.stateRoot.appendingPathComponent("cli").path),
            "plan created state: \((try? fm.subpathsOfDirectory(atPath: cli.stateRoot.path)) ?? [])")
    }

    @Test("plan against a test-driver host lists what up would create")
    func planOnline() throws {
        let cli = try CLI()
        let f = try cli.write("good.yaml", cli.goodTopology(uri: "test:///default"))
        let r = try cli.run("plan", f)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("lab cli\nhost h1 (test:///default):\n"))
        #expect(r.stdout.contains("  + network cli-lab nat 10.77.0.0/24\n"))
        #expect(r.stdout.contains("  + machine vm-0: 1 vCPU (pinned 1), 512MiB on 2M pages, tcg, lab 10.77.0.10\n"))
        #expect(r.stdout.contains("  + machine vm-1: 1 vCPU (pinned 2), 512MiB on 2M pages, tcg, lab 10.77.0.11\n"))
        #expect(r.stdout.hasSuffix("legend: + create, = unchanged, > start, ~ differs, ! conflict\n"))
    }

    @Test("status of a lab nestlab does not know: an empty lab, exit 0, no state left behind")
    func statusUnknownLab() throws {
        let cli = try CLI()
        let r = try cli.run("status", "nosuch", "--connect", "test:///default")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout
                == "lab nosuch\nMACHINE  HOST  STATE  ACCEL  ADDRESS  VCPU PINS  HUGEPAGES  READY\n(no machines in libvirt)\n"
        )
        let j = try cli.run("status", "nosuch", "--connect", "test:///default", "--output", "json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(json["lab"] as? String == "nosuch")
        #expect((json["machines"] as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: cli.stateRoot.appendingPathComponent("nosuch").path))
    }

    @Test("status of every lab: a lab folder whose state.json cannot be read is named and left out, the others shown")
    func statusWithABrokenLabRecord() throws {
        let cli = try CLI()
        for (lab, record) in [("broken", "{not json"), ("newer", #"{"version": 7}"#)] {
            let dir = cli.stateRoot.appendingPathComponent(lab)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try record.write(to: dir.appendingPathComponent("state.json"), atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(
            at: cli.stateRoot.appendingPathComponent("fine"), withIntermediateDirectories: true)
        let r = try cli.run("status", "--connect", "test:///default")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("lab fine\n"), "\(r.stdout)")
        #expect(!r.stdout.contains("lab broken") && !r.stdout.contains("lab newer"), "\(r.stdout)")
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: lab '") }
        #expect(warnings.count == 2, "\(r.stderr)")
        #expect(r.stderr.contains("warning: lab 'broken' left out: ") && r.stderr.contains("/broken/state.json"))
        #expect(r.stderr.contains("warning: lab 'newer' left out: ") && r.stderr.contains("version 7"), "\(r.stderr)")
        // Asked for by name, the broken lab stops the command with the same error.
        let one = try cli.run("status", "broken", "--connect", "test:///default")
        #expect(one.status != 0 && one.stderr.contains("/broken/state.json"), "\(one.stderr)")
    }

    @Test("down of a lab nestlab does not know: nothing removed, exit 0, no state left behind")
    func downUnknownLab() throws {
        let cli = try CLI()
        let r = try cli.run("down", "nosuch", "--connect", "test:///default", "--plain")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "lab nosuch has nothing in libvirt\n")
        #expect(!FileManager.default.fileExists(atPath: cli.stateRoot.appendingPathComponent("nosuch").path))
        // `status` without a lab therefore does not list it.
        let s = try cli.run("status", "--connect", "test:///default")
        #expect(s.stdout == "no labs known here (nothing under \(cli.stateRoot.path))\n")
    }

    @Test(
        "a lab argument that is neither a file nor a lab name exits 2",
        arguments: [
            (
                ["status", "Bad_Name"],
                "error: 'Bad_Name' is neither a topology file nor a lab name (lower-case letters, digits and '-')\n"
            ),
            (
                ["down", "missing.yaml"],
                "error: no topology file at missing.yaml; give an existing topology file or a lab name\n"
            ),
        ])
    func badTarget(args: [String], message: String) throws {
        let cli = try CLI()
        let r = try cli.run(args)
        #expect(r.status == 2)
        #expect(r.stderr == message)
    }

    @Test("up on a file with errors exits 2, prints them, and creates nothing")
    func upBadFile() throws {
        let cli = try CLI()
        let f = try cli.write("bad.yaml", Self.badTopology)
        let r = try cli.run("up", f, "--no-wait", "--plain")
        #expect(r.status == 2)
        // Every finding, each on its own line (the first carries the generic "error: " prefix too).
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == Self.badMessages.count)
        for (line, message) in zip(lines, Self.badMessages) { #expect(line.hasSuffix(message)) }
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: cli.stateRoot.path))
        #expect(!FileManager.default.fileExists(atPath: cli.dir.appendingPathComponent("storage").path))
    }
}

/// Issue 21, class 3: a reader that went away. Every command that prints runs with a stdout
/// whose reader is already gone (every write gives EPIPE): none dies of SIGPIPE (exit 141,
/// no message) or traps; each ends as it would have, its stderr intact.
@Suite struct ClosedStdoutTests {
    func run(_ args: [String], state: String, program: String? = nil) throws -> (
        status: Int32, signaled: Bool, stderr: String
    ) {
        // A pipe whose reader is gone before the program starts: its every write is EPIPE.
        var fds: [Int32] = [-1, -1]
        try #require(SpawnedProcess.cloexecPipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        let p = try SpawnedProcess.start(
            [try program ?? CLI.binaryPath()] + args,
            environment: ProcessInfo.processInfo.environment.merging(["NESTLAB_STATE_DIR": state]) { $1 },
            stdout: .descriptor(fds[1]), stderr: .pipe)
        let stderr = p.standardError!.readDataToEndOfFile()
        let status = p.wait()
        return (status, p.terminationSignal != nil, String(decoding: stderr, as: UTF8.self))
    }

    @Test func noCommandDiesOfAClosedStdout() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let topo = root.appendingPathComponent("topologies/nested-default.yaml").path
        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "closed-stdout-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let cases: [([String], Int32)] = [
            (["--help"], 0),
            (["bench", "--help"], 0),
            (["validate", topo], 0),
            (["validate", topo, "--output", "json"], 0),
            (["plan", topo, "--offline"], 0),
            (["plan", topo, "--offline", "--output", "json"], 0),
            (["status", "--output", "json"], 0),
            (["validate", "/nonexistent.yaml"], 2),
        ]
        // The harness can see the fault: a program that keeps SIGPIPE's default dies of it here.
        let yes = try run(["y"], state: state, program: "/usr/bin/yes")
        #expect(yes.signaled && yes.status == 128 + SIGPIPE, "yes: exit \(yes.status), signaled \(yes.signaled)")
        for (args, expected) in cases {
            let r = try run(args, state: state)
            #expect(
                !r.signaled && r.status == expected,
                "\(args): exit \(r.status), signaled \(r.signaled): \(r.stderr.suffix(400))")
            #expect(
                !r.stderr.contains("Fatal error") && !r.stderr.contains("Swift runtime failure"),
                "\(args): \(r.stderr.suffix(400))")
        }
    }
}
