import Foundation

/// A guest's SSH host key as nestlab made it: the private key file's text (OpenSSH's
/// `openssh-key-v1`, kept 0600 in the lab's state) and its public line.
public struct SSHHostKeyMaterial: Sendable, Hashable {
    public var privateKey: String
    public var publicKey: String

    public init(privateKey: String, publicKey: String) {
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// `ssh-ed25519 AAAA…`, without the comment: what a known_hosts line carries.
    public var keyWithoutComment: String {
        publicKey.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ")
    }
}

/// A host that SSH reaches a machine through (`ProxyJump`): a remote libvirt host, for a VM
/// on one of its NAT networks, which only that host can route to.
public struct JumpHost: Sendable, Hashable, Codable {
    /// The `Host` name in the lab's SSH config: `nestlab-LAB-HOST`.
    public var alias: String
    public var hostName: String
    public var port: Int
    public var user: String?
    public var identityFile: String?

    public init(alias: String, hostName: String, port: Int = 22, user: String? = nil, identityFile: String? = nil) {
        self.alias = alias
        self.hostName = hostName
        self.port = port
        self.user = user
        self.identityFile = identityFile
    }

    /// `[user@]host[:port]`, as `ssh -J` takes it.
    public var target: String {
        (user.map { "\($0)@" } ?? "") + hostName + (port == 22 ? "" : ":\(port)")
    }
}

/// How to reach one machine of a lab over SSH: what `nestlab ssh`, `exec`, `ssh-config`,
/// `inventory` and testbed.json all say, from one place.
public struct MachineAccess: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A VM of the lab: nestlab made its host key and its user.
        case vm
        /// A bare-metal cluster node: reached as its `hosts[].ssh` says, with the user's keys.
        case baremetal
    }

    public var name: String
    public var kind: Kind
    /// The lab host it runs on (for a bare-metal node: itself).
    public var host: String
    /// Further names in the SSH config (`LAB-NAME`), so that several labs' configs can be joined.
    public var aliases: [String]
    public var address: String
    public var port: Int
    public var user: String?
    public var identityFile: String?
    public var knownHostsFile: String
    public var proxyJump: JumpHost?
    /// Its machine group (`machines[].name`) and, in a cluster, `control-plane` or `worker`.
    public var roles: [String]
    public var networks: [String]
    public var cluster: String?
    /// For a VM: its host's libvirt URI and its domain (for `nestlab console`).
    public var libvirt: String?
    public var domain: String?

    public init(
        name: String, kind: Kind, host: String, aliases: [String] = [], address: String, port: Int = 22, user: String?,
        identityFile: String?, knownHostsFile: String, proxyJump: JumpHost? = nil, roles: [String] = [],
        networks: [String] = [], cluster: String? = nil, libvirt: String? = nil, domain: String? = nil
    ) {
        self.libvirt = libvirt
        self.domain = domain
        self.name = name
        self.kind = kind
        self.host = host
        self.aliases = aliases
        self.address = address
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.proxyJump = proxyJump
        self.roles = roles
        self.networks = networks
        self.cluster = cluster
    }

    /// The options every ssh to this machine gets (after `-F`-less use, as Ansible runs ssh):
    /// the lab's known_hosts only, strict checking, and for a jump, a ProxyCommand that runs
    /// ssh with the lab's config, so that the jump host is checked as strictly.
    public func commonOptions(configFile: String) -> [String] {
        // ssh reads an -o value as a config line: UserKnownHostsFile takes several files split at
        // blanks, so a path with blanks goes in double quotes; % is a token there.
        var o = [
            "-o", "UserKnownHostsFile=\(SSHConfig.arg(SSHConfig.escapeTokens(knownHostsFile)))", "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes",
        ]
        if identityFile != nil { o += ["-o", "IdentitiesOnly=yes"] }
        if let j = proxyJump {
            // ssh expands tokens in the ProxyCommand too: a literal % in the path is %%.
            o += ["-o", "ProxyCommand=ssh -F \(Shell.quote(SSHConfig.escapeTokens(configFile))) -W [%h]:%p \(j.alias)"]
        }
        return o
    }
}

/// Quoting for a POSIX shell (`sh -c`, and the argument strings Ansible splits with shlex).
public enum Shell {
    public static func quote(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@+".contains($0)) }) {
            return s
        }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// OpenSSH client configuration for a lab (`ssh -F FILE NAME`).
public enum SSHConfig {
    /// `%` starts a token in IdentityFile, UserKnownHostsFile and ProxyCommand: a literal one is `%%`.
    public static func escapeTokens(_ s: String) -> String { s.replacingOccurrences(of: "%", with: "%%") }

    /// An argument as ssh_config reads it: plain, or in double quotes when it has blanks.
    /// ssh_config has no escape for `"` inside quotes; such a value is refused earlier
    /// (`AccessError.unquotable`), never written broken.
    public static func arg(_ s: String) -> String {
        s.contains(where: { $0 == " " || $0 == "\t" || $0 == "#" }) ? "\"\(s)\"" : s
    }

    /// Every value nestlab writes into a config must survive ssh_config's tokenizer.
    public static func check(_ value: String, what: String) throws(AccessError) {
        if value.contains(where: { $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\0" }) || value.isEmpty {
            throw .unquotable(what: what, value: value)
        }
    }

    /// Whether OpenSSH can pass `path` on in the ProxyCommand it makes from `ProxyJump`: it
    /// writes `-F PATH` there unquoted and unescaped (OpenSSH 9.2), so a blank, a `%` or a quote
    /// breaks it.
    public static func safeForProxyJump(_ path: String) -> Bool {
        !path.contains { " \t%\"'\\$`;&|<>()*?[]{}~!#".contains($0) }
    }

    /// - Parameter configFile: where the lab keeps this config. A jump is `ProxyJump ALIAS`; when
    ///   that path is not `safeForProxyJump`, the equivalent `ProxyCommand ssh -F PATH -W …`,
    ///   quoted and escaped, which works from any path.
    public static func render(lab: String, machines: [MachineAccess], configFile: String? = nil) throws(AccessError)
        -> String
    {
        var out = "# The SSH configuration of nestlab lab '\(lab)' (`nestlab ssh-config \(lab)`).\n"
        out += "# Every host key is checked against the lab's known_hosts, which nestlab wrote from\n"
        out += "# keys it made (VMs) or read at `up` (hosts): nothing is trusted on first use.\n"
        var jumps: [String: JumpHost] = [:]
        for m in machines {
            try check(m.address, what: "address of \(m.name)")
            try check(m.knownHostsFile, what: "known_hosts path")
            out += "\nHost " + ([m.name] + m.aliases).joined(separator: " ") + "\n"
            out += "  HostName \(m.address)\n"
            out += "  Port \(m.port)\n"
            if let u = m.user {
                try check(u, what: "user of \(m.name)")
                out += "  User \(arg(u))\n"
            }
            if let k = m.identityFile {
                try check(k, what: "identity file of \(m.name)")
                out += "  IdentityFile \(arg(escapeTokens(k)))\n  IdentitiesOnly yes\n"
            }
            out += "  UserKnownHostsFile \(arg(escapeTokens(m.knownHostsFile)))\n"
            out += "  GlobalKnownHostsFile /dev/null\n"
            out += "  StrictHostKeyChecking yes\n"
            if let j = m.proxyJump {
                if let configFile, !safeForProxyJump(configFile) {
                    try check(configFile, what: "SSH config path")
                    out += "  ProxyCommand ssh -F \(Shell.quote(escapeTokens(configFile))) -W [%h]:%p \(j.alias)\n"
                } else {
                    out += "  ProxyJump \(j.alias)\n"
                }
                jumps[j.alias] = j
            }
        }
        let knownHosts = machines.first?.knownHostsFile
        for (alias, j) in jumps.sorted(by: { $0.key < $1.key }) {
            try check(j.hostName, what: "address of jump host \(alias)")
            out += "\nHost \(alias)\n"
            out += "  HostName \(j.hostName)\n"
            out += "  Port \(j.port)\n"
            if let u = j.user {
                try check(u, what: "user of jump host \(alias)")
                out += "  User \(arg(u))\n"
            }
            if let k = j.identityFile {
                try check(k, what: "identity file of jump host \(alias)")
                out += "  IdentityFile \(arg(escapeTokens(k)))\n"
            }
            if let knownHosts { out += "  UserKnownHostsFile \(arg(escapeTokens(knownHosts)))\n" }
            out += "  GlobalKnownHostsFile /dev/null\n"
            out += "  StrictHostKeyChecking yes\n"
        }
        return out
    }
}

/// The lab's known_hosts: one line per key, every name and address it is reached by.
public enum KnownHosts {
    public struct Entry: Sendable, Hashable {
        /// Names and addresses; a port other than 22 is written `[name]:port`.
        public var names: [String]
        public var port: Int
        /// `TYPE BASE64`, without a comment.
        public var key: String

        public init(names: [String], port: Int = 22, key: String) {
            self.names = names
            self.port = port
            self.key = key
        }
    }

    public static func render(_ entries: [Entry]) -> String {
        entries.map { e in
            let names = e.names.map { e.port == 22 ? $0 : "[\($0)]:\(e.port)" }
            return names.joined(separator: ",") + " " + e.key + "\n"
        }.joined()
    }
}

/// An Ansible inventory of a lab: groups by role, by host, by network and by cluster.
public enum AnsibleInventory {
    /// Ansible group names are identifiers: letters, digits and `_`.
    public static func groupName(_ prefix: String, _ name: String) -> String {
        prefix + "_" + String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    public static func groups(_ machines: [MachineAccess]) -> [(String, [String])] {
        var g: [String: [String]] = [:]
        for m in machines {
            var names = m.roles.map { groupName("role", $0) } + [groupName("host", m.host)]
            names += m.networks.map { groupName("network", $0) }
            if let c = m.cluster { names.append(groupName("cluster", c)) }
            var seen = Set<String>()
            for n in names where seen.insert(n).inserted { g[n, default: []].append(m.name) }
        }
        return g.keys.sorted().map { ($0, g[$0]!) }
    }

    public static func hostVars(_ m: MachineAccess, configFile: String) -> [(String, String)] {
        var v: [(String, String)] = [("ansible_host", m.address), ("ansible_port", String(m.port))]
        if let u = m.user { v.append(("ansible_user", u)) }
        // Ansible hands the key to ssh as `-o IdentityFile="…"`, where ssh expands tokens.
        if let k = m.identityFile { v.append(("ansible_ssh_private_key_file", SSHConfig.escapeTokens(k))) }
        v.append(
            ("ansible_ssh_common_args", m.commonOptions(configFile: configFile).map(Shell.quote).joined(separator: " "))
        )
        return v
    }

    /// The YAML form (`ansible-inventory -i FILE`).
    public static func yaml(_ machines: [MachineAccess], configFile: String) -> String {
        let hosts = machines.map { m in
            (
                m.name,
                YAMLValue.map(
                    hostVars(m, configFile: configFile).map {
                        ($0.0, $0.0 == "ansible_port" ? .int(m.port) : .string($0.1))
                    })
            )
        }
        let children = groups(machines).map { g in
            (g.0, YAMLValue.map([("hosts", .map(g.1.map { ($0, YAMLValue.map([YAMLPair]())) }))]))
        }
        var all: [(String, YAMLValue)] = [("hosts", .map(hosts))]
        if !children.isEmpty { all.append(("children", .map(children))) }
        return YAMLValue.map([("all", .map(all))]).emit()
    }

    /// The JSON form a dynamic inventory script prints for `--list`, with `_meta.hostvars`.
    public static func list(_ machines: [MachineAccess], configFile: String) -> [String: Any] {
        var out: [String: Any] = [:]
        var hostvars: [String: Any] = [:]
        for m in machines {
            var v: [String: Any] = [:]
            for (k, value) in hostVars(m, configFile: configFile) { v[k] = k == "ansible_port" ? m.port as Any : value }
            hostvars[m.name] = v
        }
        let gs = groups(machines)
        for (name, members) in gs { out[name] = ["hosts": members] }
        out["all"] = ["children": ["ungrouped"] + gs.map(\.0)]
        out["ungrouped"] = ["hosts": machines.filter { m in !gs.contains { $0.1.contains(m.name) } }.map(\.name)]
        out["_meta"] = ["hostvars": hostvars]
        return out
    }

    /// What `--host NAME` prints: that machine's variables.
    public static func host(_ m: MachineAccess, configFile: String) -> [String: Any] {
        var v: [String: Any] = [:]
        for (k, value) in hostVars(m, configFile: configFile) { v[k] = k == "ansible_port" ? m.port as Any : value }
        return v
    }
}

public enum AccessError: Error, CustomStringConvertible, Equatable {
    case unquotable(what: String, value: String)

    public var description: String {
        switch self {
        case .unquotable(let what, let value):
            return
                "the \(what) (\(value.debugDescription)) cannot be written into an SSH config: it is empty or holds a double quote or a line break"
        }
    }
}
