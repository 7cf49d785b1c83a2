import Foundation

/// Hands out host CPUs for `pinning: auto`, one NUMA node per machine when possible.
struct Pinner {
    let host: LabHost
    let facts: HostFacts
    var free: CPUSet
    let reserved: CPUSet
    var warnings: [Diagnostic] = []
    private var wrap = 0

    init(host: LabHost, facts: HostFacts, topology: Topology) {
        self.host = host
        self.facts = facts
        let usable = host.cpus ?? facts.onlineCPUs
        let reserved = host.effectiveReservedCPUs(usable: usable)
        self.reserved = reserved
        // CPUs pinned explicitly (on the machine or by its profile) are not handed out by auto.
        var explicit = CPUSet.empty
        for g in topology.machines where g.host == host.name {
            if let p = g.pinning {
                explicit = explicit.union(p)
            } else if case .success(let prof) = ProfileResolver(topology: topology).resolve(g.profile),
                case .cpus(let p) = prof.pinning
            {
                explicit = explicit.union(p)
            }
        }
        self.free = usable.subtracting(reserved).subtracting(explicit)
    }

    mutating func allocate(machine: String, vcpus: Int, preferredNode: Int?) throws -> [Int] {
        if free.count < vcpus {
            guard host.overcommit else {
                throw LabError.notEnoughCPUs(host: host.name, machine: machine, need: vcpus, free: free.count)
            }
            // Overcommitted (CI) hosts: share CPUs round-robin.
            let all = (host.cpus ?? facts.onlineCPUs).subtracting(reserved).cpus
            guard !all.isEmpty else {
                throw LabError.notEnoughCPUs(host: host.name, machine: machine, need: vcpus, free: 0)
            }
            let out = (0..<vcpus).map { all[(wrap + $0) % all.count] }
            wrap += vcpus
            return out
        }
        var nodes = facts.numaNodes.keys.sorted()
        if let p = preferredNode, nodes.contains(p) { nodes = [p] + nodes.filter { $0 != p } }
        for n in nodes {
            let inNode = free.intersection(facts.numaNodes[n] ?? .empty)
            if inNode.count >= vcpus {
                let take = Array(inNode.cpus.prefix(vcpus))
                free = free.subtracting(CPUSet(take))
                return take
            }
        }
        let take = Array(free.cpus.prefix(vcpus))
        free = free.subtracting(CPUSet(take))
        if facts.numaNodes.count > 1 {
            warnings.append(
                Diagnostic(
                    .warning, at: nil, path: "machines.\(machine)",
                    "no single NUMA node of host '\(host.name)' has \(vcpus) free CPUs; '\(machine)' spans nodes",
                    hint: "fewer vCPUs per machine keeps memory local"))
        }
        return take
    }

    /// CPUs for emulator or I/O threads: reserved CPUs under `auto`.
    mutating func side(_ p: Pinning) -> CPUSet? {
        switch p {
        case .none: return nil
        case .cpus(let s): return s
        case .auto:
            if reserved.isEmpty {
                let w = "host '\(host.name)' has no reserved CPUs, so emulator and I/O threads float"
                if !warnings.contains(where: { $0.message == w }) {
                    warnings.append(
                        Diagnostic(
                            .warning, at: nil, path: "hosts.\(host.name)", w,
                            hint: "set reservedCPUs on the host to pin them apart from vCPUs"))
                }
                return nil
            }
            return reserved
        }
    }
}
