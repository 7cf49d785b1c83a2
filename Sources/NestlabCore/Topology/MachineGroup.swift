/// One `machines:` entry; `count` alike machines expand to `name-0`, `name-1`, ...
public struct MachineGroup: Sendable, Hashable {
    public var name: String
    public var count: Int?
    public var host: String
    public var image: String
    public var profile: String
    public var vcpus: Int
    public var memory: ByteSize
    public var disk: ByteSize
    public var accel: Accel?
    /// Networks in NIC order, with a static address (the first, for a group) or nil for the next free one.
    public var networks: [(name: String, address: IPv4?)]
    /// Explicit host CPUs for this machine (for a group: all instances, consecutively).
    public var pinning: CPUSet?
    public var numaNode: Int?

    public var instanceNames: [String] {
        guard let count else { return [name] }
        return (0..<count).map { "\(name)-\($0)" }
    }

    public static func == (a: MachineGroup, b: MachineGroup) -> Bool {
        a.name == b.name && a.count == b.count && a.host == b.host && a.image == b.image && a.profile == b.profile
            && a.vcpus == b.vcpus && a.memory == b.memory && a.disk == b.disk && a.accel == b.accel
            && a.networks.map(\.name) == b.networks.map(\.name)
            && a.networks.map(\.address) == b.networks.map(\.address)
            && a.pinning == b.pinning && a.numaNode == b.numaNode
    }

    public func hash(into h: inout Hasher) { h.combine(name) }
}
