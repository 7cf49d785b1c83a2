import Foundation
import NestlabCore

/// The lab's local state: only what libvirt cannot hold.
///
/// `$NESTLAB_STATE_DIR` or `$XDG_STATE_HOME/nestlab` or `~/.local/state/nestlab`,
/// then one folder per lab (mode 0700) with the SSH key, the cluster PKI and
/// kubeconfigs (0600), testbed.json, console logs and the run lock.
public struct StateStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public static func `default`(environment: [String: String] = ProcessInfo.processInfo.environment) -> StateStore {
        if let d = environment["NESTLAB_STATE_DIR"], !d.isEmpty { return StateStore(root: URL(fileURLWithPath: d)) }
        if let x = environment["XDG_STATE_HOME"], !x.isEmpty {
            return StateStore(root: URL(fileURLWithPath: x).appendingPathComponent("nestlab"))
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateStore(root: URL(fileURLWithPath: home).appendingPathComponent(".local/state/nestlab"))
    }

    public func lab(_ name: String) -> LabState { LabState(dir: root.appendingPathComponent(name), name: name) }

    /// Labs with local state (each may or may not still exist in libvirt).
    public func labs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }
}

/// One lab's state folder.
public struct LabState: Sendable {
    public let dir: URL
    public let name: String

    public var sshKey: URL { dir.appendingPathComponent("ssh/id_ed25519") }
    public var sshPublicKey: URL { dir.appendingPathComponent("ssh/id_ed25519.pub") }
    /// A VM's SSH host key, made by nestlab before the VM exists (0600).
    public func hostKey(_ machine: String) -> URL {
        dir.appendingPathComponent("ssh/hosts/\(machine)/ssh_host_ed25519_key")
    }
    /// Every host key of the lab, with the names and addresses it is reached by; written by
    /// `up`, removed by `down` (its presence means the lab was brought up).
    public var knownHosts: URL { dir.appendingPathComponent("ssh/known_hosts") }
    /// The lab's OpenSSH client configuration (`ssh -F`), as `nestlab ssh-config` prints it.
    public var sshConfig: URL { dir.appendingPathComponent("ssh/config") }
    /// How each machine is reached (`LabAccess`), recorded at `up`, removed at `down`.
    public var access: URL { dir.appendingPathComponent("ssh/access.json") }
    public func pki(_ cluster: String) -> URL { dir.appendingPathComponent("pki/\(cluster)") }
    public func kubeconfig(_ cluster: String) -> URL { dir.appendingPathComponent("kubeconfig-\(cluster)") }
    public var testbed: URL { dir.appendingPathComponent("testbed.json") }
    public var logs: URL { dir.appendingPathComponent("logs") }
    public func consoleLog(_ machine: String) -> URL { logs.appendingPathComponent("\(machine).console.log") }
    public var log: URL { logs.appendingPathComponent("nestlab.log") }
    public var lockFile: URL { dir.appendingPathComponent("lock") }
    /// The topology file the lab was last brought up from (so `down LAB` and `status LAB` can find it).
    public var sourceFile: URL { dir.appendingPathComponent("topology-path") }
    public var golden: URL { dir.appendingPathComponent("golden") }

    public var exists: Bool { FileManager.default.fileExists(atPath: dir.path) }

    /// Creates the folder (0700) and its logs folder.
    public func create() throws {
        try FileManager.default.createDirectory(
            at: logs, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
    }

    public func recordSource(_ topologyPath: String) throws {
        try create()
        let abs = URL(fileURLWithPath: topologyPath).standardizedFileURL.path
        try Data((abs + "\n").utf8).write(to: sourceFile, options: .atomic)
    }

    public var recordedSource: String? {
        (try? String(contentsOf: sourceFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Removes the whole state folder (after `down --purge`).
    public func remove() throws {
        if exists { try FileManager.default.removeItem(at: dir) }
    }
}

public enum StateError: Error, CustomStringConvertible {
    case busy(lab: String, holder: String)
    case cannotLock(String, errno: Int32)

    public var description: String {
        switch self {
        case .busy(let lab, let holder):
            return
                "lab '\(lab)' is busy: another nestlab run holds its lock (\(holder)); wait for it to finish, or stop it"
        case .cannotLock(let p, let e): return "cannot lock \(p): \(String(cString: strerror(e)))"
        }
    }
}

/// An exclusive, process-wide lock on a lab (flock on its `lock` file).
///
/// The kernel drops the lock when the process dies, so a crashed run never
/// leaves a lab locked.
public final class LabLock: Sendable {
    // The descriptor is only used in init and deinit.
    private let fd: Int32
    public let lab: String

    public init(_ state: LabState, command: String) throws {
        try state.create()
        lab = state.name
        let fd = open(state.lockFile.path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw StateError.cannotLock(state.lockFile.path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var holder = "unknown holder"
            if e == EWOULDBLOCK, let text = try? String(contentsOf: state.lockFile, encoding: .utf8),
                !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            {
                holder = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            close(fd)
            if e == EWOULDBLOCK { throw StateError.busy(lab: state.name, holder: holder) }
            throw StateError.cannotLock(state.lockFile.path, errno: e)
        }
        self.fd = fd
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "pid \(getpid()), `nestlab \(command)`, since \(stamp)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
