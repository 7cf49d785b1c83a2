import Foundation

/// Turns a validated topology and the hosts' facts into a `Lab`.
public struct LabResolver {
    public let topology: Topology
    public let facts: [String: HostFacts]

    public init(topology: Topology, facts: [String: HostFacts]) {
        self.topology = topology
        self.facts = facts
    }

    public func resolve() throws -> Lab {
        var warnings: [Diagnostic] = []
        var allocator = AddressAllocator(topology: topology)
        let addresses = allocator.allocate()
        let t = topology
        let networks = labNetworks()
        let clusterOf = clusterMembership()
        var machines: [Machine] = []
        for host in t.hosts {
            let groups = t.machines.filter { $0.host == host.name }
            if groups.isEmpty { continue }
            guard let f = facts[host.name] else { throw LabError.missingFacts(host: host.name) }
            var pinner = Pinner(host: host, facts: f, topology: t)
            for g in groups {
                guard let image = t.image(named: g.image),
                    case .success(let profile) = ProfileResolver(topology: t).resolve(g.profile)
                else { continue }
                let accel = try self.accel(of: g, on: host, facts: f, profile: profile, &warnings)
                for (k, inst) in g.instanceNames.enumerated() {
                    let placed = try place(inst, index: k, of: g, on: host, facts: f, profile: profile, &pinner)
                    machines.append(
                        Machine(
                            name: inst, group: g.name, host: host, image: image, profile: profile, vcpus: g.vcpus,
                            memory: g.memory, disk: g.disk, accel: accel,
                            cpuVendor: host.cpuVendor ?? f.cpuVendor ?? .intel,
                            nics: nics(of: inst, in: g, addresses), vcpuPins: placed.pins,
                            emulatorPin: placed.emulator, iothreadPin: placed.iothread, numaNode: placed.numaNode,
                            cluster: clusterOf[inst] ?? clusterOf[g.name],
                            domainName: "\(t.name)-\(inst)", overlayVolume: "\(t.name)-\(inst).qcow2",
                            uuid: Identity.uuid("domain", t.name, inst)))
                }
            }
            warnings.append(contentsOf: pinner.warnings)
        }
        rederiveCollidingMACs(&machines)
        return Lab(topology: t, machines: machines, networks: networks, warnings: warnings)
    }

    /// The lab's libvirt networks, each with the hosts that have machines on it.
    private func labNetworks() -> [LabNetwork] {
        let t = topology
        var networks: [LabNetwork] = []
        for net in t.networks {
            let hosts = Set(t.machines.filter { $0.networks.contains { $0.name == net.name } }.map(\.host))
            networks.append(
                LabNetwork(
                    network: net, libvirtName: "\(t.name)-\(net.name)",
                    bridgeName: net.mode == .bridge
                        ? (net.bridge ?? "") : "nl" + Identity.hex("\(t.name)/\(net.name)").prefix(8),
                    uuid: Identity.uuid("network", t.name, net.name),
                    hosts: t.hosts.map(\.name).filter { hosts.contains($0) }))
        }
        return networks
    }

    /// Machine instance (or group, or host:NAME) → the name of its cluster.
    private func clusterMembership() -> [String: String] {
        var m: [String: String] = [:]
        for c in topology.clusters {
            for ref in c.allNodes {
                for inst in TopologyValidator(topology: topology).expand(ref) { m[inst] = c.name }
            }
        }
        return m
    }

    /// A group's accelerator, with `auto` settled by whether KVM works on its host.
    private func accel(
        of g: MachineGroup, on host: LabHost, facts f: HostFacts, profile: ResolvedProfile,
        _ warnings: inout [Diagnostic]
    ) throws -> Accel {
        var accel = g.accel ?? host.accel
        if accel == .auto && !f.kvmUsable && profile.nested {
            throw LabError.nestedWithoutKVM(host: host.name, machine: g.name, profile: profile.name)
        }
        if accel == .auto {
            accel = f.kvmUsable ? .kvm : .tcg
            if !f.kvmUsable {
                warnings.append(
                    Diagnostic(
                        .warning, at: topology.locations["machines.\(g.name)"], path: "machines.\(g.name)",
                        "KVM does not work on host '\(host.name)', so '\(g.name)' runs under TCG (software emulation, far slower)",
                        hint: "set accel: tcg to make this explicit, or fix KVM (see nestlab preflight)"))
            }
        }
        return accel
    }

    /// Where one instance runs on its host: its vCPU, emulator and I/O thread pins, and its NUMA node.
    private struct Placement {
        var pins: [CPUSet]
        var emulator: CPUSet?
        var iothread: CPUSet?
        var numaNode: Int?
    }

    /// Places the `k`th instance of a group on its host's CPUs and NUMA nodes.
    private func place(
        _ inst: String, index k: Int, of g: MachineGroup, on host: LabHost, facts f: HostFacts,
        profile: ResolvedProfile, _ pinner: inout Pinner
    ) throws -> Placement {
        var pins: [CPUSet] = []
        if let explicit = g.pinning ?? { if case .cpus(let s) = profile.pinning { return s } else { return nil } }() {
            let cpus = explicit.cpus
            pins = (0..<g.vcpus).map { CPUSet([cpus[(k * g.vcpus + $0) % cpus.count]]) }
        } else if profile.pinning == .auto {
            pins = try pinner.allocate(machine: inst, vcpus: g.vcpus, preferredNode: g.numaNode ?? profile.numaNode)
                .map { CPUSet([$0]) }
        }
        let emulator = pinner.side(profile.emulatorPin)
        let iothread = profile.iothread ? pinner.side(profile.iothreadPin) : nil
        var numaNode: Int?
        if profile.numa != .none {
            numaNode = g.numaNode ?? profile.numaNode ?? f.numaNode(of: pins.reduce(.empty) { $0.union($1) }) ?? 0
            if let n = numaNode, !f.numaNodes.isEmpty, f.numaNodes[n] == nil {
                throw LabError.numaNodeMissing(
                    host: host.name, machine: inst, node: n, nodes: f.numaNodes.keys.sorted())
            }
        }
        return Placement(pins: pins, emulator: emulator, iothread: iothread, numaNode: numaNode)
    }

    /// An instance's NICs, one per network of its group that it has an address on.
    private func nics(of inst: String, in g: MachineGroup, _ addresses: AddressAllocator.Result) -> [NIC] {
        let t = topology
        var nics: [NIC] = []
        for n in g.networks {
            guard let net = t.network(named: n.name), let ip = addresses.addresses[inst]?[n.name] else {
                continue
            }
            nics.append(
                NIC(
                    network: net, libvirtNetwork: net.mode == .bridge ? nil : "\(t.name)-\(net.name)",
                    mac: MACAddress.derive(lab: t.name, machine: inst, network: net.name), address: ip))
        }
        return nics
    }

    /// MAC collisions inside the lab are astronomically rare, but a collision would be silent: re-derive.
    private func rederiveCollidingMACs(_ machines: inout [Machine]) {
        var seenMACs = Set<String>()
        for i in machines.indices {
            for j in machines[i].nics.indices {
                var salt = 0
                while !seenMACs.insert(machines[i].nics[j].mac).inserted {
                    salt += 1
                    machines[i].nics[j].mac = MACAddress.derive(
                        lab: topology.name, machine: machines[i].name,
                        network: machines[i].nics[j].network.name, salt: salt)
                }
            }
        }
    }
}
