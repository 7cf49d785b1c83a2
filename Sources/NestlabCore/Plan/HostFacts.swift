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
