import Crypto
import Foundation

/// Assigns each machine instance its address on each network.
///
/// Explicit addresses are honoured (a group's address is its first instance's;
/// the others follow it); the rest get the next free address from `.10` up.
/// The allocation is a pure function of the topology, so `validate`, `plan`
/// and `up` agree on every address before any VM exists.
struct AddressAllocator {
    struct Issue {
        var path: String
        var fallbackPath: String
        var message: String
        var hint: String
        /// The key path of what the address collides with, when it has a line.
        var otherPath: String?
    }

    struct Result {
        /// instance name → network name → address
        var addresses: [String: [String: IPv4]] = [:]
        var issues: [Issue] = []
    }

    let topology: Topology

    /// The first address handed out automatically: `.10` leaves room for routers and hosts.
    static let autoOffset = 9

    mutating func allocate() -> Result {
        var r = Result()
        for net in topology.networks {
            var used: [IPv4: String] = [:]
            var owner: [String: String] = [:]  // who holds an address → its key path
            // Bare-metal hosts' addresses are taken: no machine gets one.
            for h in topology.hosts {
                guard let a = h.address, net.cidr.contains(a) else { continue }
                used[a] = "host:\(h.name)"
                owner["host:\(h.name)"] = "hosts.\(h.name).address"
            }
            // Explicit first, so that automatic ones flow around them.
            allocateExplicit(on: net, &used, &owner, &r)
            allocateAutomatic(on: net, &used, &r)
        }
        return r
    }

    /// The addresses the topology gives, each checked, on one network.
    private func allocateExplicit(
        on net: Network, _ used: inout [IPv4: String], _ owner: inout [String: String], _ r: inout Result
    ) {
        let gateway = net.effectiveGateway
        for g in topology.machines {
            guard let i = g.networks.firstIndex(where: { $0.name == net.name }), let first = g.networks[i].address
            else { continue }
            let path = "machines.\(g.name).network.\(net.name)"
            for (k, inst) in g.instanceNames.enumerated() {
                let ip = first + k
                if let problem = check(ip, in: net, gateway: gateway) {
                    r.issues.append(
                        Issue(
                            path: path, fallbackPath: "machines.\(g.name)",
                            message: g.instanceNames.count > 1
                                ? "address \(ip) of '\(inst)' \(problem)" : "address \(ip) \(problem)",
                            hint: hint(net, gateway)))
                    break
                }
                if let other = used[ip] {
                    r.issues.append(
                        Issue(
                            path: path, fallbackPath: "machines.\(g.name)",
                            message: "address \(ip) of '\(inst)' is also given to '\(other)'",
                            hint: "give each machine its own address on '\(net.name)'", otherPath: owner[other]))
                    break
                }
                used[ip] = inst
                owner[inst] = path
                r.addresses[inst, default: [:]][net.name] = ip
            }
        }
    }

    /// The next free addresses, from `.10` up, for the machines without one on one network.
    private func allocateAutomatic(on net: Network, _ used: inout [IPv4: String], _ r: inout Result) {
        let gateway = net.effectiveGateway
        var next = net.cidr.networkAddress + (Self.autoOffset + 1)
        for g in topology.machines {
            guard let i = g.networks.firstIndex(where: { $0.name == net.name }), g.networks[i].address == nil else {
                continue
            }
            for inst in g.instanceNames {
                while next < net.cidr.broadcast && (used[next] != nil || next == gateway || next == net.hostAddress) {
                    next = next + 1
                }
                guard net.cidr.contains(next), next < net.cidr.broadcast else {
                    r.issues.append(
                        Issue(
                            path: "machines.\(g.name).network.\(net.name)", fallbackPath: "machines.\(g.name)",
                            message:
                                "network '\(net.name)' \(net.cidr) has no free address for '\(inst)' (nestlab assigns from .\(Self.autoOffset + 1) up)",
                            hint: "give it an address, or use a larger network (a shorter prefix)"))
                    break
                }
                used[next] = inst
                r.addresses[inst, default: [:]][net.name] = next
                next = next + 1
            }
        }
    }

    private func check(_ ip: IPv4, in net: Network, gateway: IPv4?) -> String? {
        if !net.cidr.contains(ip) { return "is outside network '\(net.name)' \(net.cidr)" }
        if ip == net.cidr.networkAddress { return "is the network address of \(net.cidr)" }
        if ip == net.cidr.broadcast { return "is the broadcast address of \(net.cidr)" }
        if ip == gateway { return "is the gateway of '\(net.name)'" }
        if ip == net.hostAddress { return "is the host's own address on '\(net.name)' (libvirt's bridge)" }
        return nil
    }

    private func hint(_ net: Network, _ gateway: IPv4?) -> String {
        let first = net.hostAddress == net.cidr.firstHost ? net.cidr.firstHost + 1 : net.cidr.firstHost
        let avoid = gateway.flatMap { $0 >= first ? ", not the gateway \($0)" : nil } ?? ""
        return "an address from \(first) to \(net.cidr.lastHost)\(avoid)"
    }
}
