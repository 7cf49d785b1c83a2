import Foundation

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
