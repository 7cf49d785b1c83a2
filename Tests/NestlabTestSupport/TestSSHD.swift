import Foundation
import Spawn

/// An sshd on 127.0.0.1 for root, with its own host key and client key, as a bare-metal host
/// reached over SSH would be. The unit tier (bare-metal bootstrap, the bench runner) and the
/// system tier (bench against this host) share it.
///
/// sshd runs as a daemon (not a child of the test process), started through `SpawnedProcess`,
/// so it inherits no descriptor of the test process (see SpawnedProcessTests).
public struct TestSSHD: Sendable {
    public let dir: URL
    public let port: Int

    /// ssh options that reach it with its client key: `-p PORT -i KEY -o IdentitiesOnly=yes
    /// -o UserKnownHostsFile=DIR/known_hosts`, one word each.
    public var options: [String] {
        [
            "-p", "\(port)", "-i", dir.appendingPathComponent("client").path, "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=\(dir.path)/known_hosts",
        ]
    }

    /// The same options with each value joined to its flag (`-p2222`), for `--ssh-option=`.
    public var joinedOptions: [String] {
        stride(from: 0, to: options.count, by: 2).map { options[$0] + options[$0 + 1] }
    }

    /// Starts one in `parent` (a new folder under the temporary directory when nil). With
    /// `knownHosts`, `DIR/known_hosts` holds its host key under `[127.0.0.1]:PORT`; without, the
    /// file does not exist (a first contact).
    public static func start(in parent: URL? = nil, knownHosts: Bool) throws -> TestSSHD {
        let d = (parent ?? FileManager.default.temporaryDirectory).appendingPathComponent(
            "nestlab-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        let port = Int.random(in: 20000...40000)
        let known =
            knownHosts
            ? "printf '[127.0.0.1]:%s %s\\n' \(port) \"$(cut -d' ' -f1-2 \(d.path)/hostkey.pub)\" > \(d.path)/known_hosts"
            : ":"
        let script = """
            mkdir -p /run/sshd
            ssh-keygen -q -t ed25519 -N '' -f \(d.path)/hostkey
            ssh-keygen -q -t ed25519 -N '' -f \(d.path)/client
            cp \(d.path)/client.pub \(d.path)/authorized_keys
            \(known)
            cat > \(d.path)/sshd_config <<CFG
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(d.path)/hostkey
            AuthorizedKeysFile \(d.path)/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            StrictModes no
            UsePAM no
            PidFile \(d.path)/sshd.pid
            CFG
            /usr/sbin/sshd -f \(d.path)/sshd_config
            for i in $(seq 50); do [ -s \(d.path)/sshd.pid ] && break; sleep 0.1; done
            [ -s \(d.path)/sshd.pid ]
            """
        let r = try SpawnedProcess.run(["/bin/sh", "-ec", script], timeout: 300)
        guard r.status == 0 else {
            throw TestSSHDFailure(description: "cannot start sshd (exit \(r.status)): \(r.errors)")
        }
        return TestSSHD(dir: d, port: port)
    }

    /// Ends the daemon (SIGKILL: it holds nothing worth a clean shutdown).
    public func stop() {
        if let text = try? String(contentsOf: dir.appendingPathComponent("sshd.pid"), encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, SIGKILL)
        }
    }
}

public struct TestSSHDFailure: Error, CustomStringConvertible {
    public var description: String
}
