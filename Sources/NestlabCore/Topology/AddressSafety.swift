import Foundation

/// Issue 21, class 7: no address is used twice anywhere in the lab, lab networks do not
/// overlap, and a cluster's pod and service networks overlap neither each other nor the lab.
/// Every finding names both lines. (Within one network, machines' addresses are checked by
/// `AddressAllocator`; libvirt networks hand out no dynamic range, only the static
/// addresses nestlab allocates, so there is no DHCP range to collide with.)
extension TopologyValidator {
    /// ` at line N` for a key path, or nothing when its line is not known.
    func atLine(_ path: String) -> String {
        loc(path).map { " at line \($0.line)" } ?? ""
    }

    func checkAddressSafety(_ d: inout Diagnostics) {
        checkNetworkOverlaps(&d)
        checkFixedAddresses(&d)
        checkHostsOutsideClusterNetworks(&d)
    }

    /// Lab networks, sorted by first address; each is compared with the widest one before it,
    /// so that the check stays O(n log n) however many networks a file names.
    func checkNetworkOverlaps(_ d: inout Diagnostics) {
        let sorted = t.networks.sorted { ($0.cidr.networkAddress, $0.name) < ($1.cidr.networkAddress, $1.name) }
        var widest: Network?
        for net in sorted {
            if let w = widest, w.cidr.overlaps(net.cidr) {
                let p = "networks.\(net.name).cidr"
                d.error(
                    p, at: loc(p) ?? loc("networks.\(net.name)"),
                    "network '\(net.name)' \(net.cidr) overlaps network '\(w.name)' \(w.cidr)\(atLine("networks.\(w.name).cidr"))",
                    hint: "give each lab network its own address range")
            }
            if widest == nil || net.cidr.broadcast > widest!.cidr.broadcast { widest = net }
        }
    }

    /// The addresses the topology fixes: each network's gateway and host bridge address, and
    /// each bare-metal host's address. None may be given twice.
    func fixedAddresses() -> [(ip: IPv4, what: String, path: String)] {
        var out: [(IPv4, String, String)] = []
        for net in t.networks {
            if let g = net.gateway {
                out.append((g, "the gateway of network '\(net.name)'", "networks.\(net.name).gateway"))
            } else if let g = net.effectiveGateway {
                out.append((g, "the gateway of network '\(net.name)'", "networks.\(net.name).cidr"))
            }
            if let h = net.hostAddress, h != net.effectiveGateway {
                out.append((h, "the host's address on network '\(net.name)'", "networks.\(net.name).cidr"))
            }
        }
        for h in t.hosts {
            if let a = h.address { out.append((a, "the address of host '\(h.name)'", "hosts.\(h.name).address")) }
        }
        return out
    }

    func checkFixedAddresses(_ d: inout Diagnostics) {
        var first: [IPv4: (what: String, path: String)] = [:]
        for (ip, what, path) in fixedAddresses() {
            if let other = first[ip] {
                d.error(
                    path, at: loc(path), "\(ip), \(what), is also \(other.what)\(atLine(other.path))",
                    hint: "give each address to one thing in the lab")
            } else {
                first[ip] = (what, path)
            }
        }
    }

    /// A bare-metal node's address inside a pod or service network would be routed into the
    /// cluster's overlay instead of to the node.
    func checkHostsOutsideClusterNetworks(_ d: inout Diagnostics) {
        for c in t.clusters {
            for h in t.hosts {
                guard let a = h.address else { continue }
                for (kind, net, key) in [("pod", c.podCIDR, "podCIDR"), ("service", c.serviceCIDR, "serviceCIDR")]
                where net.contains(a) {
                    let p = "hosts.\(h.name).address"
                    d.error(
                        p, at: loc(p) ?? loc("hosts.\(h.name)"),
                        "address \(a) of host '\(h.name)' is inside the \(kind) network \(net) of cluster '\(c.name)'\(atLine("clusters.\(c.name).\(key)"))",
                        hint: "keep the cluster's \(key) apart from the hosts' addresses")
                }
            }
        }
    }
}
