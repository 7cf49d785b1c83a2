import Foundation
import Glibc
import NestlabCore
import Spawn
import Testing

/// A second libvirt host on this machine (`../shared/tools/second-host`): its own network and
/// mount namespaces, libvirtd, virtlogd and sshd, reached over `qemu+ssh` as a real remote
/// host is. Every test that starts one stops it in a `defer`.
struct SecondHost {
    let name: String
    let uri: String
    let address: String

    /// The fixture: `NESTLAB_SECOND_HOST_TOOL`, or `shared/tools/second-host` beside the repo
    /// (where CI puts `shared/`). A missing tool fails the tier; it is never skipped.
    static var tool: String {
        ProcessInfo.processInfo.environment["NESTLAB_SECOND_HOST_TOOL"]
            ?? System.repo.deletingLastPathComponent().appendingPathComponent("shared/tools/second-host").path
    }

    static func start(name: String, address: String, peer: String) throws -> SecondHost {
        try #require(FileManager.default.isExecutableFile(atPath: tool), "the second-host fixture is missing: \(tool)")
        _ = try detached([tool, "stop", "--name", name])  // a leftover of an interrupted run
        let r = try detached([tool, "start", "--name", name, "--addr", "\(address)/24", "--peer", peer])
        try #require(r.status == 0, "second-host start failed: \(r.all)")
        var vars: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            vars[String(line[..<eq])] = String(line[line.index(after: eq)...]).trimmingCharacters(
                in: CharacterSet(charactersIn: "'"))
        }
        let uri = try #require(vars["SECOND_HOST_URI"], "no SECOND_HOST_URI in: \(r.stdout)")
        return SecondHost(name: name, uri: uri, address: address)
    }

    /// Runs the fixture with posix_spawn and waitpid, its output in files. Foundation's Process
    /// learns that a child ended from a socket the child inherits; the daemons `start` leaves
    /// running inherit it too, so Process would wait for them forever.
    static func detached(_ argv: [String]) throws -> System.Result {
        let dir = try System.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (out, err) = (dir.appendingPathComponent("out").path, dir.appendingPathComponent("err").path)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        try #require(rc == 0, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return System.Result(
            status: code, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    func bridge(local: String, remote: String, subnet: String) throws {
        let r = try Self.detached([
            Self.tool, "bridge", "--name", name, "--local-bridge", local, "--remote-bridge", remote, "--subnet", subnet,
        ])
        try #require(r.status == 0, "second-host bridge failed: \(r.all)")
    }

    func stop() { _ = try? Self.detached([Self.tool, "stop", "--name", name]) }

    /// Kills the host's libvirtd (a fault: QEMU processes keep running, clients see EPIPE/EOF).
    func killLibvirtd() throws {
        let pid = try String(contentsOfFile: "/run/second-host/\(name)/run/libvirtd.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let r = try System.run(["kill", "-9", pid])
        try #require(r.status == 0, "cannot kill libvirtd \(pid) of \(name): \(r.all)")
    }

    /// Brings a killed libvirtd back on the same state, as an operator would (`start` again).
    /// `start` sees a daemon whose pid still answers `kill -0` as running, so wait until the
    /// killed one is gone first.
    func restartLibvirtd() throws {
        let pid = try String(contentsOfFile: "/run/second-host/\(name)/run/libvirtd.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for _ in 0..<300 where kill(pid_t(pid) ?? 0, 0) == 0 { usleep(100_000) }
        let r = try Self.detached([Self.tool, "start", "--name", name])
        try #require(r.status == 0, "second-host start (again) failed: \(r.all)")
        let answer = try virsh(["uri"])
        try #require(answer.status == 0, "the restarted libvirtd of \(name) does not answer: \(answer.all)")
    }

    func virsh(_ args: [String]) throws -> System.Result { try System.run(["virsh", "-c", uri] + args) }
}

extension System {
    /// `ci-two-hosts.yaml` for one test: its own lab name and bridge subnet.
    static func twoHostTopology(lab: String, subnet: String, in dir: URL) throws -> URL {
        var text = try String(contentsOf: repo.appendingPathComponent("topologies/ci-two-hosts.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "name: ci-two-hosts\n", with: "name: \(lab)\n")
        text = text.replacingOccurrences(of: "10.251.0", with: subnet)
        let u = dir.appendingPathComponent("\(lab).yaml")
        try text.write(to: u, atomically: true, encoding: .utf8)
        return u
    }

    /// Runs nestlab in the background, its output in files, so a test can act while it runs.
    final class Background: Sendable {
        let process: SpawnedProcess
        let out: URL
        let err: URL
        init(_ args: [String], state: URL, env: [String: String], dir: URL) throws {
            out = dir.appendingPathComponent("bg.out")
            err = dir.appendingPathComponent("bg.err")
            var e = ProcessInfo.processInfo.environment
            for (k, v) in env { e[k] = v }
            e["NESTLAB_STATE_DIR"] = state.path
            process = try SpawnedProcess.start(
                [binary.path] + args, environment: e, stdout: .file(out.path), stderr: .file(err.path))
        }
        var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        /// Waits until stderr contains `text` (true) or the process ended or time ran out (false).
        func waitFor(_ text: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if stderr.contains(text) { return true }
                if process.hasExited { return stderr.contains(text) }
                usleep(200_000)
            }
            return false
        }
        func wait() -> Int32 { process.wait() }
    }
}

/// Issue 17: one lab on two libvirt hosts.
extension SystemTests {
    /// Two hosts, one VM each, on one bridged L2 segment, with a wrong volume planted under the
    /// base image's name and foreign objects on the remote host. `up` replaces the planted
    /// volume and says so, and both guests become ready. Then:
    /// the remote overlay's backing file is qcow2, each VM reaches the other, status and
    /// testbed.json cover both hosts, and `down` leaves nothing of the lab on either host while
    /// the foreign domain and volume survive.
    @Test(.timeLimit(.minutes(30)))
    func twoHostsBridgedLab() throws {
        try System.requireHost()
        let lab = "sysmh"
        let (peer, addr) = ("10.250.7.1", "10.250.7.2")
        let hostb = try SecondHost.start(name: "nlsysb", address: addr, peer: peer)
        defer { hostb.stop() }
        try hostb.bridge(local: "nlsysbr0", remote: "nlsysbr0", subnet: "10.96.0.0/24")
        let dir = try System.tempDir()
        let state = dir.appendingPathComponent("state")
        let file = try System.twoHostTopology(lab: lab, subnet: "10.96.0", in: dir)
        let env = ["NESTLAB_SECOND_HOST_URI": hostb.uri, "NESTLAB_BRIDGE": "nlsysbr0"]
        try System.clearLeftovers(lab, state: state)
        defer {
            _ = try? System.nestlab(["down", file.path, "--purge"], state: state, env: env)
            try? FileManager.default.removeItem(at: dir)
        }

        // Planted on the remote host: a raw volume under the base image's name (in nestlab's
        // image pool), and a domain and a volume that are not the lab's but look like it.
        let image =
            (ProcessInfo.processInfo.environment["NESTLAB_TEST_IMAGE_DIR"]
                ?? NSHomeDirectory() + "/.cache/nestlab/test-image") + "/debian12.qcow2"
        let sum = try System.run(["sha256sum", image])
        let base = "base-\(sum.stdout.prefix(16)).qcow2"
        let poolXML = dir.appendingPathComponent("pool.xml")
        try StorageRenderer.pool(
            name: Lab.imagePoolName, path: "\(LabHost.defaultStorageDir)/images", uuid: Identity.uuid("pool", "images")
        )
        .render().write(to: poolXML, atomically: true, encoding: .utf8)
        for args in [
            ["pool-define", poolXML.path], ["pool-build", Lab.imagePoolName], ["pool-start", Lab.imagePoolName],
            ["vol-create-as", Lab.imagePoolName, base, "64M", "--format", "raw"],
            ["vol-create-as", Lab.imagePoolName, "\(lab)-foreign.qcow2", "16M", "--format", "qcow2"],
        ] {
            let r = try hostb.virsh(args)
            try #require(r.status == 0, "virsh \(args): \(r.all)")
        }
        let foreignXML = dir.appendingPathComponent("foreign.xml")
        try """
        <domain type='qemu'><name>\(lab)-foreign</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>
        """.write(to: foreignXML, atomically: true, encoding: .utf8)
        let defined = try hostb.virsh(["define", foreignXML.path])
        try #require(defined.status == 0, "\(defined.all)")

        // up replaces the planted volume, says so, and both guests become ready.
        // While the guests boot, their seeds are in the pools, 0600, on the remote host too.
        let bg = try System.Background(["up", file.path, "--plain"], state: state, env: env, dir: dir)
        try expectSeedsAreSecretWhileBooting(lab: lab, machines: 1, during: bg)
        try expectSeedsAreSecretWhileBooting(lab: lab, uri: hostb.uri, machines: 1, during: bg)
        let upStatus = bg.wait()
        let up = (stdout: bg.stdout, stderr: bg.stderr)
        try #require(upStatus == 0, "up:\n\(up.stdout)\n\(up.stderr)")
        #expect(
            up.stderr.contains(
                "host hostb: volume \(base) was not what nestlab placed there (it is raw, not qcow2): replaced"),
            "\(up.stderr)")
        #expect(up.stdout.contains("a [local]") && up.stdout.contains("10.96.0.10 ready"), "\(up.stdout)")
        #expect(up.stdout.contains("b [hostb]") && up.stdout.contains("10.96.0.11 ready"), "\(up.stdout)")
        // Once ready, the seeds are gone on both hosts.
        try expectSeedsDropped(lab: lab, domains: ["\(lab)-a"])
        try expectSeedsDropped(lab: lab, uri: hostb.uri, domains: ["\(lab)-b"])

        // What the remote host holds: the base is a qcow2 of the image's exact size, and the
        // overlay's backing file is that qcow2.
        let imageBytes = try #require(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int)
        let baseXML = try hostb.virsh(["vol-dumpxml", "--pool", Lab.imagePoolName, base]).stdout
        #expect(
            baseXML.contains("<format type='qcow2'/>")
                && baseXML.contains("<physical unit='bytes'>\(imageBytes)</physical>"), "\(baseXML)")
        let overlay = try hostb.virsh(["vol-dumpxml", "--pool", "nestlab-\(lab)", "\(lab)-b.qcow2"]).stdout
        let backing = try #require(overlay.range(of: "<backingStore>")).upperBound
        #expect(overlay[backing...].contains("/images/\(base)</path>"), "\(overlay)")
        #expect(overlay[backing...].contains("<format type='qcow2'/>"), "\(overlay)")

        // Each VM reaches the other across the two hosts' bridges.
        let key = state.appendingPathComponent("\(lab)/ssh/id_ed25519")
        for (from, to) in [("10.96.0.10", "10.96.0.11"), ("10.96.0.11", "10.96.0.10")] {
            let r = try System.ssh(key, from, "timeout 5 bash -c 'echo >/dev/tcp/\(to)/22' && echo reached")
            #expect(r.status == 0 && r.stdout.contains("reached"), "\(from) -> \(to): \(r.all)")
        }
        // nestlab exec reaches both hosts' machines, host keys checked strictly.
        let exec = try System.nestlab(["exec", lab, "--", "hostname"], state: state, env: env)
        #expect(exec.status == 0 && exec.stdout.split(separator: "\n").sorted() == ["a | a", "b | b"], "\(exec.all)")
        let onB = try System.nestlab(
            ["exec", lab, "--role", "b", "--output", "json", "--", "hostname"], state: state, env: env)
        #expect(
            onB.status == 0 && onB.stdout.contains("\"machine\" : \"b\"")
                && !onB.stdout.contains("\"machine\" : \"a\""), "\(onB.all)")

        // status and testbed.json cover both hosts.
        let st = try System.nestlab(["status", file.path, "--output", "json"], state: state, env: env)
        let status = try #require(try System.json(st.stdout) as? [String: Any], "\(st.all)")
        let rows = try #require(status["machines"] as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["host"] as? String }) == ["local", "hostb"], "\(st.stdout)")
        #expect(rows.allSatisfy { $0["ready"] as? Bool == true && $0["state"] as? String == "running" }, "\(st.stdout)")
        let tb = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: state.appendingPathComponent("\(lab)/testbed.json")))
                as? [String: Any])
        let tbHosts = (tb["machines"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String }
        #expect(Set(tbHosts) == ["local", "hostb"], "testbed.json machines' hosts: \(tbHosts)")
        // Both bridged: reached directly, no jump through hostb.
        let tbSSH = (tb["machines"] as? [[String: Any]] ?? []).compactMap { $0["ssh"] as? [String: Any] }
        #expect(
            tbSSH.count == 2 && tbSSH.allSatisfy { $0["proxyJump"] is NSNull && $0["user"] as? String == "nestlab" },
            "\(tbSSH)")

        // down removes exactly the lab's objects on both hosts.
        let down = try System.nestlab(["down", lab], state: state, env: env)
        #expect(down.status == 0, "\(down.all)")
        #expect(down.stdout.contains("hostb:\(lab)-b") && down.stdout.contains("local:\(lab)-a"), "\(down.stdout)")
        try expectNothingLeft(lab)
        let remoteDomains = try hostb.virsh(["list", "--all", "--name"]).stdout.split(separator: "\n").map(String.init)
        #expect(remoteDomains == ["\(lab)-foreign"], "domains left on hostb: \(remoteDomains)")
        let remotePools = try hostb.virsh(["pool-list", "--all", "--name"]).stdout
        #expect(!remotePools.contains("nestlab-\(lab)"), "\(remotePools)")
        let remoteVolumes = try hostb.virsh(["vol-list", Lab.imagePoolName]).stdout
        #expect(remoteVolumes.contains("\(lab)-foreign.qcow2"), "the foreign volume must survive: \(remoteVolumes)")
    }

    /// The remote libvirtd is killed while `up` waits for the guests: the remote machine fails at
    /// once (not after the ready timeout) with its host named, and nestlab does not die of SIGPIPE.
    /// Once the daemon is back, a re-run of `up` converges and `down` leaves nothing anywhere.
    @Test(.timeLimit(.minutes(10)))
    func remoteLibvirtdKilledWhileUpWaits() throws {
        try System.requireHost()
        let lab = "syskill"
        let hostb = try SecondHost.start(name: "nlsysk", address: "10.250.6.2", peer: "10.250.6.1")
        defer {
            hostb.stop()
            // Its QEMU outlived the killed daemon, which stop cannot reach: end it here, or it
            // keeps its hugepages from the tests after this one.
            _ = try? System.run(["pkill", "-f", "guest=\(lab)-b,"])
        }
        try hostb.bridge(local: "nlsyskbr0", remote: "nlsyskbr0", subnet: "10.99.0.0/24")
        let dir = try System.tempDir()
        let state = dir.appendingPathComponent("state")
        let file = try System.twoHostTopology(lab: lab, subnet: "10.99.0", in: dir)
        try System.clearLeftovers(lab, state: state)
        let env = ["NESTLAB_SECOND_HOST_URI": hostb.uri, "NESTLAB_BRIDGE": "nlsyskbr0"]
        defer {
            _ = try? System.nestlab(["down", file.path, "--purge"], state: state, env: env)
            try? FileManager.default.removeItem(at: dir)
        }
        let bg = try System.Background(["up", file.path, "--plain"], state: state, env: env, dir: dir)
        let booting = bg.waitFor("b: booting (console: libvirt stream)", seconds: 300)
        try #require(booting, "b never started booting:\n\(bg.stderr)")
        try hostb.killLibvirtd()
        let failed = bg.waitFor(
            "b: console unavailable (cannot read the console on host 'hostb' (\(hostb.uri))", seconds: 60)
        #expect(failed, "b's failure must come at once and name the host:\n\(bg.stderr)")
        // Ctrl-C: stop waiting for the local machine too.
        bg.process.signal(SIGINT)
        let status = bg.wait()
        #expect(status == 1, "\(bg.stdout)\n\(bg.stderr)")
        #expect(bg.stderr.contains("the connection to libvirt is gone"), "\(bg.stderr)")
        #expect(!bg.stderr.contains("Fatal error") && !bg.stdout.contains("Fatal error"))
        // down cleans the host that answers and names the one that does not (state kept).
        let down = try System.nestlab(["down", lab], state: state, env: env)
        #expect(down.status == 1 && down.stderr.contains("but not on: host 'hostb'"), "\(down.all)")
        let local = try System.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"])
        #expect(!local.stdout.contains("\(lab)-"), "the local host still holds: \(local.stdout)")

        // The daemon comes back (its QEMU kept running). A re-run of up converges: a is made
        // again here, and b, never seen ready and with no console log nestlab can read on this
        // host, is restarted and watched.
        try hostb.restartLibvirtd()
        let domb = try hostb.virsh(["domstate", "\(lab)-b"])
        #expect(domb.stdout.contains("running"), "b must have outlived its daemon: \(domb.all)")
        let again = try System.nestlab(["up", file.path, "--plain", "--output", "json"], state: state, env: env)
        try #require(again.status == 0, "the re-run of up must converge:\n\(again.all)")
        let report = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        let machines = (report?["machines"] as? [[String: Any]]) ?? []
        #expect(machines.count == 2 && machines.allSatisfy { $0["ready"] as? Bool == true }, "\(again.stdout)")
        #expect(machines.first { $0["name"] as? String == "b" }?["action"] as? String == "restart", "\(again.stdout)")
        let downAgain = try System.nestlab(["down", lab], state: state, env: env)
        #expect(downAgain.status == 0, "\(downAgain.all)")
        try expectNothingLeft(lab)
        let remote = try hostb.virsh(["list", "--all", "--name"])
        #expect(!remote.stdout.contains("\(lab)-"), "hostb still holds: \(remote.stdout)")
        let remotePools = try hostb.virsh(["pool-list", "--all", "--name"])
        #expect(
            !remotePools.stdout.contains("nestlab-\(lab)") && !remotePools.stdout.contains("nestlab-consoles"),
            "hostb still holds pools: \(remotePools.stdout)")
    }

    /// A host that cannot be reached fails `up` (exit 1) before anything is created anywhere,
    /// and the error names the host and its URI.
    @Test(.timeLimit(.minutes(5)))
    func unreachableHostCreatesNothing() throws {
        try System.requireHost()
        let lab = "sysunr"
        let hostb = try SecondHost.start(name: "nlsysu", address: "10.250.8.2", peer: "10.250.8.1")
        hostb.stop()
        // Its address now leads nowhere on this machine; without a route of its own, the SSH
        // connection attempt would leave through the default route. Refuse it here instead.
        _ = try System.run(["ip", "route", "del", "10.250.8.2/32"])
        let route = try System.run(["ip", "route", "add", "unreachable", "10.250.8.2/32"])
        try #require(route.status == 0, "\(route.all)")
        defer { _ = try? System.run(["ip", "route", "del", "unreachable", "10.250.8.2/32"]) }
        let dir = try System.tempDir()
        let state = dir.appendingPathComponent("state")
        let file = try System.twoHostTopology(lab: lab, subnet: "10.97.0", in: dir)
        try System.clearLeftovers(lab, state: state)
        // The bridge exists nowhere either; the connection check comes first.
        let env = ["NESTLAB_SECOND_HOST_URI": hostb.uri, "NESTLAB_BRIDGE": "nlsysubr0"]
        defer {
            _ = try? System.nestlab(["down", lab], state: state)
            try? FileManager.default.removeItem(at: dir)
        }
        let up = try System.nestlab(["up", file.path, "--plain"], state: state, env: env)
        #expect(up.status == 1, "\(up.all)")
        #expect(up.stderr.contains("cannot reach host 'hostb' at \(hostb.uri)"), "\(up.stderr)")
        #expect(up.stderr.contains("nothing was created on any host"), "\(up.stderr)")
        #expect(!up.stderr.contains("Fatal error"))
        try expectNothingLeft(lab)
    }
}
