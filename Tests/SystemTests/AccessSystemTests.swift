import Foundation
import Testing

/// Issue 18: reaching a lab that is up, on real TCG guests. Called by the lifecycle test on
/// its lab (system tests share labs: a boot under TCG costs a minute).
extension SystemTests {
    func expectLabIsReachable(lab: String, state: URL, file: URL) throws {
        let sshDir = state.appendingPathComponent("\(lab)/ssh")
        // The files up wrote: secrets and what they are checked against, 0600 in a 0700 folder.
        for f in [
            "known_hosts", "config", "access.json", "hosts/vm-0/ssh_host_ed25519_key",
            "hosts/vm-1/ssh_host_ed25519_key",
        ] {
            let mode =
                try FileManager.default.attributesOfItem(atPath: sshDir.appendingPathComponent(f).path)[
                    .posixPermissions] as? Int
            #expect(mode == 0o600, "\(f) has mode \(String(mode ?? -1, radix: 8))")
        }
        // The guest's host key is the one nestlab made (read inside the guest).
        for m in ["vm-0", "vm-1"] {
            let made = try String(
                contentsOf: sshDir.appendingPathComponent("hosts/\(m)/ssh_host_ed25519_key.pub"), encoding: .utf8)
            // cloud-init writes the public half 0600 too: read it as root.
            let seen = try System.nestlab(
                ["ssh", lab, m, "--", "sudo", "cat", "/etc/ssh/ssh_host_ed25519_key.pub"], state: state)
            #expect(seen.status == 0, "\(seen.all)")
            let key = { (s: String) in s.split(separator: " ").prefix(2).joined(separator: " ") }
            #expect(key(seen.stdout) == key(made), "\(m) runs another host key: \(seen.stdout) vs \(made)")
        }

        // nestlab ssh: the command's output and its exit code come back.
        let hostname = try System.nestlab(["ssh", lab, "vm-0", "--", "hostname"], state: state)
        #expect(hostname.status == 0 && hostname.stdout == "vm-0\n", "\(hostname.all)")
        let seven = try System.nestlab(["ssh", lab, "vm-1", "--", "exit", "7"], state: state)
        #expect(seven.status == 7, "\(seven.all)")
        let noSuch = try System.nestlab(["ssh", lab, "vm-9", "--", "true"], state: state)
        #expect(noSuch.status == 2 && noSuch.stderr.contains("its machines: vm-0, vm-1"), "\(noSuch.all)")

        // nestlab exec: every machine, each line prefixed; JSON per machine; the worst exit code.
        let exec = try System.nestlab(["exec", lab, "--", "hostname"], state: state)
        #expect(exec.status == 0, "\(exec.all)")
        #expect(exec.stdout.split(separator: "\n").sorted() == ["vm-0 | vm-0", "vm-1 | vm-1"], "\(exec.all)")
        let mixed = try System.nestlab(
            ["exec", lab, "--output", "json", "--", "test $(hostname) = vm-0 || exit 3"], state: state)
        #expect(mixed.status == 3, "\(mixed.all)")
        let report = try #require(try System.json(mixed.stdout) as? [String: Any])
        let rows = (report["machines"] as? [[String: Any]]) ?? []
        #expect(
            rows.map { "\($0["machine"] ?? "?")=\($0["exitCode"] ?? "?")" } == ["vm-0=0", "vm-1=3"], "\(mixed.stdout)")
        let slow = try System.nestlab(
            ["exec", lab, "--machines", "vm-1", "--timeout", "2", "--", "sleep 30"], state: state)
        #expect(slow.status == 124 && slow.stderr.contains("vm-1: timed out after 2 s"), "\(slow.all)")

        // ssh -F with the printed config works with strict checking, and fails once the lab's
        // known_hosts line for vm-1 is altered.
        let config = try System.nestlab(["ssh-config", lab], state: state)
        #expect(config.status == 0, "\(config.all)")
        let configFile = sshDir.deletingLastPathComponent().appendingPathComponent("printed.sshconfig")
        try config.stdout.write(to: configFile, atomically: true, encoding: .utf8)
        let viaConfig = try System.run(["ssh", "-F", configFile.path, "-o", "BatchMode=yes", "vm-1", "hostname"])
        #expect(viaConfig.status == 0 && viaConfig.stdout == "vm-1\n", "\(viaConfig.all)")

        // Ansible (Debian's ansible-core): the inventory lists both, and ping works with host
        // key checking on; the dynamic form (--list) gives the same hosts.
        let inventory = try System.nestlab(["inventory", lab], state: state)
        #expect(inventory.status == 0, "\(inventory.all)")
        let invFile = sshDir.deletingLastPathComponent().appendingPathComponent("inventory.yaml")
        try inventory.stdout.write(to: invFile, atomically: true, encoding: .utf8)
        let ansibleEnv = [
            "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": "/tmp/nestlab-ansible-tmp",
        ]
        let listed = try System.run(["ansible-inventory", "-i", invFile.path, "--list"], env: ansibleEnv)
        #expect(listed.status == 0, "\(listed.all)")
        let listedHosts =
            ((try? System.json(listed.stdout) as? [String: Any])?["_meta"] as? [String: Any])?["hostvars"]
            as? [String: Any]
        #expect(Set(listedHosts?.keys.map { $0 } ?? []) == ["vm-0", "vm-1"], "\(listed.stdout)")
        let script = sshDir.deletingLastPathComponent().appendingPathComponent("inventory.sh")
        try "#!/bin/sh\nNESTLAB_STATE_DIR='\(state.path)' exec '\(System.binary.path)' inventory \(lab) \"$@\"\n"
            .write(to: script, atomically: true, encoding: .utf8)
        _ = try System.run(["chmod", "755", script.path])
        let dynamic = try System.run(["ansible-inventory", "-i", script.path, "--graph"], env: ansibleEnv)
        #expect(
            dynamic.status == 0 && dynamic.stdout.contains("vm-0") && dynamic.stdout.contains("vm-1")
                && dynamic.stdout.contains("@role_vm"), "\(dynamic.all)")
        let ping = try System.run(["ansible", "all", "-i", invFile.path, "-m", "ping", "-o"], env: ansibleEnv)
        #expect(ping.status == 0 && ping.stdout.components(separatedBy: "SUCCESS").count == 3, "\(ping.all)")

        // nestlab console through a pty: Enter brings the login prompt, Ctrl-] detaches (exit 0).
        let console = try System.run(
            ["python3", "-c", Self.ptyDriver, System.binary.path, "console", lab, "vm-0"],
            env: ["NESTLAB_STATE_DIR": state.path])
        #expect(console.status == 0 && console.stdout.contains("vm-0 login:"), "\(console.all)")
        #expect(console.stdout.contains("Detached from vm-0"), "\(console.all)")
        let notTTY = try System.nestlab(["console", lab, "vm-0"], state: state)
        #expect(notTTY.status == 2 && notTTY.stderr.contains("needs a terminal"), "\(notTTY.all)")

        // Last, as it breaks vm-1's line: an altered known_hosts key is refused.
        let knownHosts = sshDir.appendingPathComponent("known_hosts")
        let original = try String(contentsOf: knownHosts, encoding: .utf8)
        let other = try System.run([
            "sh", "-c",
            "d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f $d/k && cut -d' ' -f1-2 $d/k.pub && rm -r $d",
        ])
        let altered =
            original.split(separator: "\n").map { line -> String in
                line.hasPrefix("vm-1,")
                    ? line.split(separator: " ")[0] + " " + other.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    : String(line)
            }.joined(separator: "\n") + "\n"
        try altered.write(to: knownHosts, atomically: true, encoding: .utf8)
        let refused = try System.run(["ssh", "-F", configFile.path, "-o", "BatchMode=yes", "vm-1", "hostname"])
        #expect(refused.status == 255 && refused.stderr.contains("Host key verification failed"), "\(refused.all)")
        try original.write(to: knownHosts, atomically: true, encoding: .utf8)
        _ = try System.run(["chmod", "600", knownHosts.path])
    }

    /// Runs argv under a pseudo-terminal, presses Enter every 3 s until a login prompt shows
    /// (or 120 s pass), then Ctrl-]; prints what the terminal showed and exits with argv's code.
    static let ptyDriver = """
        import os, pty, select, sys, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out, last, start = b"", 0.0, time.time()
        while time.time() - start < 120 and b"login:" not in out:
            if time.time() - last > 3:
                os.write(fd, b"\\r")
                last = time.time()
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
        os.write(fd, b"\\x1d")
        end = time.time() + 20
        while time.time() < end:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode("utf-8", "replace"))
        sys.exit(os.waitstatus_to_exitcode(status))
        """
}
