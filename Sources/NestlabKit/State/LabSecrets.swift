import Foundation
import NestlabCore

/// The lab's secrets, made before any VM exists and kept in its state folder:
/// the SSH key every guest trusts, and per cluster the CA, bootstrap token and
/// admin credential. Created once; every later run reuses them, so a rebuilt
/// lab keeps its identity.
public struct LabSecrets: Sendable {
    public var ssh: SSHKey
    /// Machine → its SSH host key (the guest gets it through cloud-init).
    public var hostKeys: [String: SSHHostKeyMaterial]
    public var clusters: [String: ClusterSecrets]

    public struct ClusterSecrets: Sendable {
        public var ca: ClusterCA
        public var token: BootstrapToken
        public var admin: ClientCredential
        public var discoveryHash: String
    }

    /// Loads the lab's secrets, creating what is missing. With `persist: false` (a dry run:
    /// `plan`, `preflight`) nothing is written: what exists is read, what is missing is made
    /// in memory only and forgotten.
    public static func ensure(_ state: LabState, clusters: [String], machines: [String] = [], persist: Bool = true)
        throws -> LabSecrets
    {
        if persist { try state.create() }
        let ssh: SSHKey
        if let text = try? String(contentsOf: state.sshKey, encoding: .utf8) {
            ssh = try SSHKey(openSSHPrivateKey: text)
        } else {
            let key = SSHKey(comment: "nestlab@\(state.name)")
            if persist {
                try SecretFile.createPrivateDirectory(at: state.sshKey.deletingLastPathComponent())
                try key.write(to: state.sshKey.deletingLastPathComponent())
            }
            ssh = key
        }
        let hostKeys = try ensureHostKeys(state, machines: machines, persist: persist)
        var out: [String: ClusterSecrets] = [:]
        for c in clusters { out[c] = try ensureCluster(state, c, persist: persist) }
        return LabSecrets(ssh: ssh, hostKeys: hostKeys, clusters: out)
    }

    /// Every machine's host key, read (and checked against its public half) or made; side by side
    /// across the CPUs for larger labs, each machine in its own folder.
    static func ensureHostKeys(_ state: LabState, machines: [String], persist: Bool) throws
        -> [String: SSHHostKeyMaterial]
    {
        let keys = try concurrentMap(machines) { m in
            try ensureHostKey(state.hostKey(m), machine: m, persist: persist)
        }
        return Dictionary(zip(machines, keys), uniquingKeysWith: { _, last in last })
    }

    /// One cluster's CA, bootstrap token and admin credential: read, or made (and written when `persist`).
    private static func ensureCluster(_ state: LabState, _ c: String, persist: Bool) throws -> ClusterSecrets {
        let dir = state.pki(c)
        let caCrt = dir.appendingPathComponent("ca.crt")
        let caKey = dir.appendingPathComponent("ca.key")
        let tokenFile = dir.appendingPathComponent("token")
        let adminCrt = dir.appendingPathComponent("admin.crt")
        let adminKey = dir.appendingPathComponent("admin.key")
        let ca: ClusterCA
        if let crt = try? String(contentsOf: caCrt, encoding: .utf8),
            let key = try? String(contentsOf: caKey, encoding: .utf8)
        {
            ca = try ClusterCA(certificatePEM: crt, privateKeyPEM: key)
        } else {
            ca = try ClusterCA.generate()
            if persist {
                try SecretFile.createPrivateDirectory(at: dir)
                try SecretFile.write(ca.privateKeyPEM, to: caKey)
                try SecretFile.write(try ca.certificatePEM, to: caCrt, mode: 0o644)
            }
        }
        let token: BootstrapToken
        if let t = try? String(contentsOf: tokenFile, encoding: .utf8) {
            token = try BootstrapToken(t.trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            token = BootstrapToken.generate()
            if persist { try SecretFile.write(token.value + "\n", to: tokenFile) }
        }
        let admin: ClientCredential
        if let crt = try? String(contentsOf: adminCrt, encoding: .utf8),
            let key = try? String(contentsOf: adminKey, encoding: .utf8),
            let loaded = try? ClientCredential(certificatePEM: crt, privateKeyPEM: key)
        {
            admin = loaded
        } else {
            admin = try ca.issueClientCertificate(commonName: "nestlab-admin", organizations: ["system:masters"])
            if persist {
                try SecretFile.write(admin.privateKeyPEM, to: adminKey)
                try SecretFile.write(try admin.certificatePEM, to: adminCrt)
            }
        }
        return ClusterSecrets(ca: ca, token: token, admin: admin, discoveryHash: try ca.discoveryHash)
    }

    /// A machine's host key: the stored file's text as it is (so the rendered seed stays the
    /// same from run to run), or a new ed25519 key written 0600 in a 0700 folder.
    static func ensureHostKey(_ file: URL, machine: String, persist: Bool) throws -> SSHHostKeyMaterial {
        if let text = try? String(contentsOf: file, encoding: .utf8), let key = try? SSHKey(openSSHPrivateKey: text) {
            return SSHHostKeyMaterial(privateKey: text, publicKey: key.authorizedKey)
        }
        let key = SSHKey(comment: "root@\(machine)")
        guard persist else {
            return SSHHostKeyMaterial(privateKey: key.openSSHPrivateKey(), publicKey: key.authorizedKey)
        }
        try SecretFile.createPrivateDirectory(at: file.deletingLastPathComponent().deletingLastPathComponent())
        try SecretFile.createPrivateDirectory(at: file.deletingLastPathComponent())
        let (priv, _) = try key.write(to: file.deletingLastPathComponent(), name: file.lastPathComponent)
        let text = try String(contentsOf: priv, encoding: .utf8)
        return SSHHostKeyMaterial(privateKey: text, publicKey: key.authorizedKey)
    }
}
