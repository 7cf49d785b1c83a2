import Foundation

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
    /// The lab's record (`LabRecord`): the topology file it was last brought up from (so `down LAB`
    /// and `status LAB` can find it), that file's digest and the hosts used.
    public var recordFile: URL { dir.appendingPathComponent("state.json") }
    /// What nestlab before `state.json` wrote instead: the topology's absolute path and a newline.
    /// Still read (as a version 0 record); the next `up` replaces it with `state.json`.
    public var legacySourceFile: URL { dir.appendingPathComponent("topology-path") }
    public var golden: URL { dir.appendingPathComponent("golden") }

    public var exists: Bool { FileManager.default.fileExists(atPath: dir.path) }

    /// Creates the folder (0700) and its logs folder.
    public func create() throws {
        try FileManager.default.createDirectory(
            at: logs, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
    }

    /// Removes the whole state folder (after `down --purge`).
    public func remove() throws {
        if exists { try FileManager.default.removeItem(at: dir) }
    }
}
