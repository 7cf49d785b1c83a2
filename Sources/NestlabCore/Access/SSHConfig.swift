import Foundation

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
