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
