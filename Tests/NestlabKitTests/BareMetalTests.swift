import Foundation
import NestlabTestSupport
import Testing

@testable import NestlabCore
@testable import NestlabKit

/// Bare-metal bootstrap over the real OpenSSH client and a real sshd on 127.0.0.1
/// (started by the test, with its own host key and authorized key). Blocking set-up
/// runs through `Blocking.run`, off Swift's cooperative threads.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && getuid() == 0,
        "needs root and openssh-server (Tests/Scripts/setup-host installs it)"))
struct BareMetalTests {
    /// The shared test sshd, without a known_hosts entry (the tests here make their own).
    static func startSSHD() throws -> TestSSHD { try TestSSHD.start(knownHosts: false) }

    /// Runs a script with nestlab's own spawn (it starts daemons such as sshd, which must not
    /// inherit any descriptor of the test process: see ChildProcessTests).
    static func sh(_ cmd: String) throws {
        let r = try ChildProcess.capture(["/bin/sh", "-ec", cmd], timeout: 300)
        guard r.status == 0 else { throw OperationError("failed (exit \(r.status)): \(cmd)\n\(r.stderr)") }
    }

    @Test func filesLandRootOwnedWithTheirModesAndPhasesComeBack() async throws {
        let sshd = try await Blocking.run { try Self.startSSHD() }
        defer {
            sshd.stop()
            try? FileManager.default.removeItem(at: sshd.dir)
        }
        let target = sshd.dir.appendingPathComponent("node-root")
        let secret = target.appendingPathComponent("etc/nestlab/node.env").path
        let script = target.appendingPathComponent("usr/local/lib/nestlab/hello.sh").path
        let files = [
            NodeFile(path: secret, mode: 0o600, text: "TOKEN='abcdef.0123456789abcdef'\n"),
            NodeFile(
                path: script, mode: 0o755,
                text:
                    "#!/bin/sh\necho 'NESTLAB phase=hello status=start detail='\necho 'NESTLAB phase=hello status=ok detail=from%20ssh'\n"
            ),
        ]
        let log = sshd.dir.appendingPathComponent("lab.log")
        // Directories that exist on the node keep their modes: "/" above all (a tar member
        // "./" once turned it into 0700, and QEMU and postgres could no longer run).
        try FileManager.default.createDirectory(
            at: target.appendingPathComponent("etc"), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o711])
        func mode(_ path: String) throws -> Int? {
            try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        }
        let before = try ["/", FileManager.default.temporaryDirectory.path, target.path].map(mode)
        final class Seen: @unchecked Sendable {
            var phases: [String] = []
            let lock = NSLock()
        }
        let seen = Seen()
        let o = try await BareMetal.run(
            node: "node1", target: "root@127.0.0.1", files: files, command: [script], log: log,
            sshOptions: sshd.options
        ) { name, status, detail in
            seen.lock.withLock { seen.phases.append("\(name) \(status) \(detail)") }
        }
        #expect(o.ok, "\(o.detail ?? "") \(o.tail)")
        #expect(seen.phases == ["hello start ", "hello ok from ssh"])
        let attrs = try FileManager.default.attributesOfItem(atPath: secret)
        #expect(attrs[.posixPermissions] as? Int == 0o600 && (attrs[.ownerAccountID] as? Int) == 0)
        #expect(try String(contentsOfFile: secret, encoding: .utf8) == "TOKEN='abcdef.0123456789abcdef'\n")
        #expect(try FileManager.default.attributesOfItem(atPath: script)[.posixPermissions] as? Int == 0o755)
        #expect(try String(contentsOf: log, encoding: .utf8).contains("NESTLAB phase=hello status=ok"))
        #expect(try ["/", FileManager.default.temporaryDirectory.path, target.path].map(mode) == before)
        #expect(try mode(target.appendingPathComponent("etc").path) == 0o711)
    }

    @Test func aFailingPhaseIsReportedAsTheCause() async throws {
        let sshd = try await Blocking.run { try Self.startSSHD() }
        defer {
            sshd.stop()
            try? FileManager.default.removeItem(at: sshd.dir)
        }
        let script = sshd.dir.appendingPathComponent("root/fail.sh").path
        let files = [
            NodeFile(
                path: script, mode: 0o755,
                text: """
                    #!/bin/sh
                    echo 'NESTLAB phase=kubernetes-binaries status=failed detail=cannot%20reach%20dl.k8s.io'
                    echo 'NESTLAB phase=bootstrap status=failed detail=node-prep.sh%20failed'
                    exit 1
                    """)
        ]
        let o = try await BareMetal.run(
            node: "node1", target: "root@127.0.0.1", files: files, command: [script],
            log: sshd.dir.appendingPathComponent("lab.log"), sshOptions: sshd.options
        ) { _, _, _ in }
        #expect(!o.ok)
        #expect(o.failedPhase == "kubernetes-binaries" && o.detail == "cannot reach dl.k8s.io")
    }

    @Test func anUnreachableHostFailsWithSSHsReason() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-ssh-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let o = try await BareMetal.run(
            node: "node9", target: "root@127.0.0.1",
            files: [NodeFile(path: dir.appendingPathComponent("x").path, mode: 0o644, text: "x")],
            command: ["true"], log: dir.appendingPathComponent("lab.log"),
            sshOptions: ["-p", "1", "-o", "UserKnownHostsFile=/dev/null"]
        ) { _, _, _ in }
        #expect(!o.ok && o.failedPhase == "copy-files")
        #expect(o.detail?.contains("Connection refused") == true, "\(o.detail ?? "")")
    }

    /// Issue 18: a bare-metal node's key is read once (here with ssh-keyscan, as the user's
    /// known_hosts does not know it) and from then on checked strictly against the lab's file.
    @Test func theNodesKeyIsReadOnceThenCheckedStrictly() async throws {
        let sshd = try await Blocking.run { try Self.startSSHD() }
        defer {
            sshd.stop()
            try? FileManager.default.removeItem(at: sshd.dir)
        }
        let port = Int(sshd.options[1])!
        let keys = HostKeyReader.keys(hostName: "127.0.0.1", port: port)
        let hostKey = try String(contentsOf: sshd.dir.appendingPathComponent("hostkey.pub"), encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        #expect(keys == .scanned([hostKey]), "\(keys)")
        #expect(HostKeyReader.keys(hostName: "127.0.0.1", port: 1) == .none("ssh-keyscan got no key (exit 1)"))

        let known = sshd.dir.appendingPathComponent("lab_known_hosts")
        try KnownHosts.render([KnownHosts.Entry(names: ["127.0.0.1"], port: port, key: hostKey)]).write(
            to: known, atomically: true, encoding: .utf8)
        let script = sshd.dir.appendingPathComponent("root/ok.sh").path
        let files = [NodeFile(path: script, mode: 0o755, text: "#!/bin/sh\necho 'NESTLAB phase=x status=ok detail='\n")]
        let log = sshd.dir.appendingPathComponent("lab.log")
        let ok = try await BareMetal.run(
            node: "n", target: "root@127.0.0.1", files: files, command: [script], log: log,
            sshOptions: sshd.options, knownHosts: known
        ) { _, _, _ in }
        #expect(ok.ok, "\(ok.detail ?? "") \(ok.tail)")
        // Another key under the node's name: refused, nothing copied (the test's own known_hosts
        // option comes after nestlab's and does not count).
        let other = try Self.otherKey(in: sshd.dir)
        try KnownHosts.render([KnownHosts.Entry(names: ["127.0.0.1"], port: port, key: other)]).write(
            to: known, atomically: true, encoding: .utf8)
        let refused = try await BareMetal.run(
            node: "n", target: "root@127.0.0.1", files: files, command: [script], log: log,
            sshOptions: sshd.options, knownHosts: known
        ) { _, _, _ in }
        #expect(!refused.ok && refused.failedPhase == "copy-files")
        #expect(try String(contentsOf: log, encoding: .utf8).contains("Host key verification failed"))
    }

    /// The SSH config nestlab writes, used by the real ssh against a real sshd, with a key and
    /// a known_hosts file in folders whose names hold a blank and a `%` (a token to ssh).
    @Test func sshConfigPathsWithBlanksAndPercentWork() async throws {
        let sshd = try await Blocking.run { try Self.startSSHD() }
        defer {
            sshd.stop()
            try? FileManager.default.removeItem(at: sshd.dir)
        }
        let port = Int(sshd.options[1])!
        let odd = sshd.dir.appendingPathComponent("lab %d 1")
        try FileManager.default.createDirectory(at: odd, withIntermediateDirectories: true)
        let key = odd.appendingPathComponent("id %h")
        try FileManager.default.copyItem(at: sshd.dir.appendingPathComponent("client"), to: key)
        let hostKey = try String(contentsOf: sshd.dir.appendingPathComponent("hostkey.pub"), encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        let known = odd.appendingPathComponent("known hosts")
        try KnownHosts.render([KnownHosts.Entry(names: ["127.0.0.1"], port: port, key: hostKey)]).write(
            to: known, atomically: true, encoding: .utf8)
        let m = MachineAccess(
            name: "node", kind: .baremetal, host: "node", address: "127.0.0.1", port: port, user: "root",
            identityFile: key.path, knownHostsFile: known.path)
        let config = odd.appendingPathComponent("config")
        try SSHConfig.render(lab: "odd", machines: [m], configFile: config.path).write(
            to: config, atomically: true, encoding: .utf8)
        let r = try await Blocking.run {
            try ChildProcess.capture(
                ["ssh", "-F", config.path, "-o", "BatchMode=yes", "node", "echo", "in"], timeout: 30)
        }
        #expect(r.status == 0 && r.stdout == "in\n", "\(r.stdout)\(r.stderr)")

        // Through a jump host (here the same sshd, which forwards to itself): ProxyJump in the
        // config, and the ProxyCommand of the Ansible inventory's common arguments.
        let jump = JumpHost(
            alias: "nestlab-odd-jump", hostName: "127.0.0.1", port: port, user: "root", identityFile: key.path)
        var behind = m
        behind.name = "behind"
        behind.kind = .vm
        behind.proxyJump = jump
        // In a folder whose path OpenSSH's ProxyJump cannot carry, the jump is written as the
        // equivalent ProxyCommand; in a plain one, as ProxyJump. Both are taken for real.
        let plain = sshd.dir.appendingPathComponent("plain.config")
        for file in [config, plain] {
            let text = try SSHConfig.render(lab: "odd", machines: [m, behind], configFile: file.path)
            #expect(text.contains("ProxyJump nestlab-odd-jump") == (file == plain), "\(text)")
            try text.write(to: file, atomically: true, encoding: .utf8)
            let viaJump = try await Blocking.run {
                try ChildProcess.capture(
                    ["ssh", "-F", file.path, "-o", "BatchMode=yes", "-v", "behind", "echo", "jumped"], timeout: 30)
            }
            #expect(viaJump.status == 0 && viaJump.stdout == "jumped\n", "\(viaJump.stderr)")
            #expect(
                viaJump.stderr.contains("Executing proxy command: exec ssh -F"),
                "the jump must be taken: \(viaJump.stderr)")
        }
        let ansibleStyle =
            ["ssh"] + behind.commonOptions(configFile: config.path)
            + [
                "-o", "BatchMode=yes", "-o", "IdentityFile=\"\(SSHConfig.escapeTokens(key.path))\"", "-p", String(port),
                "-l", "root",
                "127.0.0.1", "echo", "ansible",
            ]
        let viaCommand = try await Blocking.run { try ChildProcess.capture(ansibleStyle, timeout: 30) }
        #expect(viaCommand.status == 0 && viaCommand.stdout == "ansible\n", "\(ansibleStyle) \(viaCommand.stderr)")
    }

    static func otherKey(in dir: URL) throws -> String {
        try sh("ssh-keygen -q -t ed25519 -N '' -f \(dir.path)/other")
        return try String(contentsOf: dir.appendingPathComponent("other.pub"), encoding: .utf8).split(separator: " ")
            .prefix(2).joined(separator: " ")
    }

    @Test func remoteWordsAreQuoted() {
        #expect(BareMetal.quote("/usr/local/lib/nestlab/bootstrap.sh") == "/usr/local/lib/nestlab/bootstrap.sh")
        #expect(BareMetal.quote("it's; rm -rf /") == "'it'\\''s; rm -rf /'")
        #expect(BareMetal.asRoot("admin@node1", ["tar"]) == ["sudo", "-n", "tar"])
        #expect(BareMetal.asRoot("root@node1", ["tar"]) == ["tar"])
    }
}
