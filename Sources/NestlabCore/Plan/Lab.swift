import Crypto
import Foundation

/// What nestlab needs to know about a host to render exact XML: its CPUs,
/// NUMA layout, CPU vendor and whether KVM really works there.
public struct HostFacts: Sendable, Hashable, Codable {
    public var cpuVendor: CPUVendor?
    public var onlineCPUs: CPUSet
    /// NUMA node → its CPUs.
    public var numaNodes: [Int: CPUSet]
    public var kvmUsable: Bool

    public init(cpuVendor: CPUVendor?, onlineCPUs: CPUSet, numaNodes: [Int: CPUSet], kvmUsable: Bool) {
        self.cpuVendor = cpuVendor
        self.onlineCPUs = onlineCPUs
        self.numaNodes = numaNodes
        self.kvmUsable = kvmUsable
    }

    /// Facts assumed when planning without reaching the host (`plan --offline`):
    /// KVM works, one NUMA node, as many CPUs as the topology declares or needs.
    public static func assumed(for host: LabHost, in topology: Topology) -> HostFacts {
        var cpus = host.cpus?.union(host.reservedCPUs ?? .empty)
        if cpus == nil {
            let need = topology.machines.filter { $0.host == host.name }.reduce(0) {
                $0 + $1.vcpus * $1.instanceNames.count
            }
            cpus = CPUSet(0..<max(need + 1, 2))
        }
        return HostFacts(cpuVendor: host.cpuVendor ?? .intel, onlineCPUs: cpus!, numaNodes: [0: cpus!], kvmUsable: true)
    }

    public func numaNode(of cpus: CPUSet) -> Int? {
        let nodes = Set(cpus.compactMap { c in numaNodes.first { $0.value.contains(c) }?.key })
        return nodes.count == 1 ? nodes.first : nil
    }
}

/// A NIC of a machine instance.
public struct NIC: Sendable, Hashable {
    public var network: Network
    /// The libvirt network name (`LAB-NET`), or nil for a host bridge.
    public var libvirtNetwork: String?
    public var mac: String
    public var address: IPv4
}

/// One VM, with every decision made: names, addresses, pinning, accelerator.
public struct Machine: Sendable, Hashable {
    public var name: String
    public var group: String
    public var host: LabHost
    public var image: Image
    public var profile: ResolvedProfile
    public var vcpus: Int
    public var memory: ByteSize
    public var disk: ByteSize
    public var accel: Accel
    public var cpuVendor: CPUVendor
    public var nics: [NIC]
    /// vCPU i → host CPUs (1:1 for nestlab's pinning), empty when floating.
    public var vcpuPins: [CPUSet]
    public var emulatorPin: CPUSet?
    public var iothreadPin: CPUSet?
    /// NUMA node for memory (numatune, hugepage nodeset), when NUMA placement is asked for.
    public var numaNode: Int?
    public var cluster: String?

    public var domainName: String
    public var overlayVolume: String
    /// A stable UUID derived from the lab and machine names.
    public var uuid: String

    public var primaryAddress: IPv4? { nics.first?.address }
}

/// A lab network as libvirt will hold it.
public struct LabNetwork: Sendable, Hashable {
    public var network: Network
    public var libvirtName: String
    public var bridgeName: String
    public var uuid: String
    public var hosts: [String]  // host names it is needed on
}

/// A topology resolved against its hosts: the desired state of the lab.
public struct Lab: Sendable {
    public var topology: Topology
    public var name: String { topology.name }
    public var machines: [Machine]
    public var networks: [LabNetwork]
    public var warnings: [Diagnostic]

    public func machines(on host: String) -> [Machine] { machines.filter { $0.host.name == host } }
    public func machine(named n: String) -> Machine? { machines.first { $0.name == n } }

    /// The lab's storage pool on a host (overlays and seeds).
    public static func poolName(lab: String) -> String { "nestlab-\(lab)" }
    public static let imagePoolName = "nestlab-images"

    public static func poolPath(lab: String, host: LabHost) -> String { "\(host.storageDir)/\(lab)" }
    public static func imagePoolPath(host: LabHost) -> String { "\(host.storageDir)/images" }

    /// Name of a base image volume: content-addressed, shared by labs on a host.
    public static func baseVolumeName(sha256: String, format: Image.Format) -> String {
        "base-\(sha256.prefix(16)).\(format.rawValue)"
    }
}

public enum LabError: Error, CustomStringConvertible {
    case missingFacts(host: String)
    case notEnoughCPUs(host: String, machine: String, need: Int, free: Int)
    case numaNodeMissing(host: String, machine: String, node: Int, nodes: [Int])
    case nestedWithoutKVM(host: String, machine: String, profile: String)

    public var description: String {
        switch self {
        case .missingFacts(let h):
            return "no facts for host '\(h)'; nestlab could not ask its libvirt"
        case .notEnoughCPUs(let h, let m, let need, let free):
            return
                "host '\(h)' has \(free) free CPUs for pinning, but '\(m)' needs \(need); give fewer vCPUs, free CPUs (hosts[].cpus/reservedCPUs), or set overcommit: true"
        case .nestedWithoutKVM(let h, let m, let p):
            return
                "machine '\(m)' uses profile '\(p)' with nested virtualization, but KVM does not work on host '\(h)' (see nestlab preflight); fix KVM, or use a profile with cpu.nested: false and accel: tcg"
        case .numaNodeMissing(let h, let m, let n, let nodes):
            return
                "machine '\(m)' wants NUMA node \(n), but host '\(h)' has nodes \(nodes.map(String.init).joined(separator: ", "))"
        }
    }
}

/// Stable identifiers derived from names, so that re-runs converge on the same objects.
public enum Identity {
    /// A UUID (RFC 9562 version 8, name-based on SHA-256) for a lab object.
    public static func uuid(_ parts: String...) -> String {
        var b = Array(SHA256.hash(data: Data(("nestlab/" + parts.joined(separator: "/")).utf8)).prefix(16))
        b[6] = (b[6] & 0x0f) | 0x80
        b[8] = (b[8] & 0x3f) | 0x80
        let h = Array(hexString(b).utf8)
        let groups = [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]]
        return groups.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "-")
    }

    public static func hex(_ data: Data) -> String { hexString(SHA256.hash(data: data)) }
    public static func hex(_ s: String) -> String { hex(Data(s.utf8)) }
}

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
