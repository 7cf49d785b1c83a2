import Foundation

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
