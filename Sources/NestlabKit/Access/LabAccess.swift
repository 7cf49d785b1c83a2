import Foundation
import Libvirt
import NestlabCore

/// How a lab's machines are reached over SSH, from the topology and the lab's state: the one
/// source for `nestlab ssh`, `exec`, `ssh-config`, `inventory` and testbed.json.
///
/// - A VM is reached at its first NIC's address as `nestlab` with the lab's key. Its host key
///   is the one nestlab made (`LabSecrets.hostKeys`) and gave it through cloud-init.
/// - A VM on a NAT or isolated network of a remote host is reached through that host
///   (`ProxyJump`): only the host routes to it. The host is reached as its libvirt URI says
///   (`qemu+ssh://USER@HOST:PORT/…?keyfile=…`), or as `hosts[].ssh` says.
/// - A bare-metal cluster node is reached as its `hosts[].ssh` says, with the user's keys.
/// - Hosts' keys (jump hosts, bare-metal nodes) are read once, at `up`: from the user's
///   known_hosts when it knows the host (libvirt's qemu+ssh transport checks the same file),
///   else with `ssh-keyscan` (trust on first use, then never again). See docs/access.md.
public struct LabAccess: Sendable {
    public var lab: String
    public var state: LabState
    public var machines: [MachineAccess]

    /// The user every VM has.
    public static let user = CloudInitRenderer.user

    public init(lab: Lab, state: LabState) {
        self.lab = lab.name
        self.state = state
        var out: [MachineAccess] = []
        let clusterRole = Self.clusterRoles(lab.topology)
        for m in lab.machines {
            guard let address = m.primaryAddress else { continue }
            let firstNet = m.nics.first?.network
            var jump: JumpHost?
            if let firstNet, firstNet.mode != .bridge, Connection.isRemote(uri: m.host.libvirt) {
                jump = Self.jumpHost(m.host, lab: lab.name)
            }
            var roles = [m.group]
            if let r = clusterRole[.machine(m.name)] ?? clusterRole[.machine(m.group)] { roles.append(r) }
            out.append(
                MachineAccess(
                    name: m.name, kind: .vm, host: m.host.name, aliases: ["\(lab.name)-\(m.name)"],
                    address: address.description, user: Self.user, identityFile: state.sshKey.path,
                    knownHostsFile: state.knownHosts.path, proxyJump: jump, roles: roles,
                    networks: m.nics.map(\.network.name), cluster: m.cluster, libvirt: m.host.libvirt,
                    domain: m.domainName))
        }
        for h in Self.bareMetalNodes(lab.topology) {
            let (user, hostName) = Self.splitTarget(h.ssh ?? h.name)
            var roles = ["baremetal"]
            if let r = clusterRole[.host(h.name)] { roles.append(r) }
            let cluster = lab.topology.clusters.first { $0.allNodes.contains(.host(h.name)) }?.name
            out.append(
                MachineAccess(
                    name: h.name, kind: .baremetal, host: h.name, aliases: ["\(lab.name)-\(h.name)"],
                    address: hostName, user: user, identityFile: nil, knownHostsFile: state.knownHosts.path,
                    roles: roles, networks: [], cluster: cluster))
        }
        machines = out
    }

    /// Bare-metal hosts that are cluster nodes (nestlab runs the node scripts on them over SSH).
    static func bareMetalNodes(_ t: Topology) -> [LabHost] {
        let names = Set(
            t.clusters.flatMap { c in
                c.allNodes.compactMap { n -> String? in if case .host(let h) = n { return h } else { return nil } }
            })
        return t.hosts.filter { names.contains($0.name) }
    }

    static func clusterRoles(_ t: Topology) -> [NodeRef: String] {
        var r: [NodeRef: String] = [:]
        for c in t.clusters {
            for n in c.workers { r[n] = "worker" }
            for n in c.controlPlane { r[n] = "control-plane" }
        }
        return r
    }

    /// `user@host` → (user, host); a bare `host` has no user (ssh's default applies).
    static func splitTarget(_ target: String) -> (String?, String) {
        guard let at = target.lastIndex(of: "@") else { return (nil, target) }
        return (String(target[..<at]), String(target[target.index(after: at)...]))
    }

    /// The host a remote VM is reached through: `hosts[].ssh` when given, else the libvirt URI's
    /// user, host, port and `keyfile=`.
    static func jumpHost(_ h: LabHost, lab: String) -> JumpHost? {
        let alias = "nestlab-\(lab)-\(h.name)"
        if let ssh = h.ssh {
            let (user, host) = splitTarget(ssh)
            return JumpHost(alias: alias, hostName: host, user: user)
        }
        guard let c = URLComponents(string: h.libvirt), let host = c.host, !host.isEmpty else { return nil }
        let keyfile = c.queryItems?.first { $0.name == "keyfile" }?.value
        return JumpHost(alias: alias, hostName: host, port: c.port ?? 22, user: c.user, identityFile: keyfile)
    }

    public func machine(named name: String) -> MachineAccess? { machines.first { $0.name == name } }

    init(lab: String, state: LabState, machines: [MachineAccess]) {
        self.lab = lab
        self.state = state
        self.machines = machines
    }

    /// What `up` recorded (`ssh/access.json`); nil when the lab is not up.
    public static func load(_ state: LabState) throws -> LabAccess? {
        guard FileManager.default.fileExists(atPath: state.access.path) else { return nil }
        let data = try Data(contentsOf: state.access)
        let machines = try JSONDecoder().decode([MachineAccess].self, from: data)
        return LabAccess(lab: state.name, state: state, machines: machines)
    }

    // MARK: files

    /// The lab's OpenSSH config, as `ssh-config` prints it and `ssh`/`exec` use it.
    public func sshConfig() throws -> String {
        try SSHConfig.render(lab: lab, machines: machines, configFile: state.sshConfig.path)
    }

    /// Hosts whose keys nestlab must read (it made none of them): jump hosts and bare-metal nodes.
    public var externalHosts: [(name: String, hostName: String, port: Int)] {
        var seen = Set<String>()
        var out: [(String, String, Int)] = []
        for m in machines {
            if m.kind == .baremetal, seen.insert("\(m.address):\(m.port)").inserted {
                out.append((m.name, m.address, m.port))
            }
            if let j = m.proxyJump, seen.insert("\(j.hostName):\(j.port)").inserted {
                out.append((j.alias, j.hostName, j.port))
            }
        }
        return out
    }

    /// Writes known_hosts (every VM's key under its names and addresses, and the keys read
    /// from the external hosts) and the SSH config, both 0600 in the lab's 0700 ssh folder.
    public func write(hostKeys: [String: SSHHostKeyMaterial], external: [KnownHosts.Entry]) throws {
        var entries: [KnownHosts.Entry] = []
        for m in machines where m.kind == .vm {
            guard let key = hostKeys[m.name] else { continue }
            entries.append(
                KnownHosts.Entry(names: [m.name] + m.aliases + [m.address], port: m.port, key: key.keyWithoutComment))
        }
        entries += external
        try SecretFile.createPrivateDirectory(at: state.knownHosts.deletingLastPathComponent())
        try SecretFile.update(Data(KnownHosts.render(entries).utf8), at: state.knownHosts)
        try SecretFile.update(Data(try sshConfig().utf8), at: state.sshConfig)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try SecretFile.update(try encoder.encode(machines), at: state.access)
    }

    /// Removes what `write` made (at `down`): the lab is no longer reachable.
    public static func removeFiles(_ state: LabState) {
        for f in [state.knownHosts, state.sshConfig, state.access] { try? FileManager.default.removeItem(at: f) }
    }

    /// Reads the keys of the external hosts (see the type's notes). A host whose key cannot
    /// be read is left out and named in the returned notes.
    public func readExternalKeys() async -> (entries: [KnownHosts.Entry], notes: [String]) {
        var entries: [KnownHosts.Entry] = []
        var notes: [String] = []
        for h in externalHosts {
            let keys =
                (try? await Blocking.run { HostKeyReader.keys(hostName: h.hostName, port: h.port) })
                ?? .none("cancelled")
            switch keys {
            case .known(let k):
                entries += k.map { KnownHosts.Entry(names: [h.hostName], port: h.port, key: $0) }
            case .scanned(let k):
                entries += k.map { KnownHosts.Entry(names: [h.hostName], port: h.port, key: $0) }
                notes.append(
                    "\(h.name): host key of \(h.hostName) read with ssh-keyscan (it was not in your known_hosts) and recorded for this lab"
                )
            case .none(let why):
                notes.append(
                    "warning: \(h.name): cannot read the host key of \(h.hostName): \(why); ssh to it through nestlab will be refused"
                )
            }
        }
        return (entries, notes)
    }

    static func hostPattern(_ host: String, _ port: Int) -> String { port == 22 ? host : "[\(host)]:\(port)" }
}
