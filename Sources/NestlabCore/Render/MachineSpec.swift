/// The canonical description of a machine that decides whether libvirt's copy
/// is current: an ordered list of fields, stored in the domain's metadata, and
/// their digest. `up` compares fields to report exactly what drifted.
public struct MachineSpec: Sendable, Hashable {
    public var fields: [(String, String)]

    public init(fields: [(String, String)]) { self.fields = fields }

    public static func == (a: MachineSpec, b: MachineSpec) -> Bool {
        a.fields.map(\.0) == b.fields.map(\.0) && a.fields.map(\.1) == b.fields.map(\.1)
    }

    public func hash(into h: inout Hasher) {
        for (k, v) in fields {
            h.combine(k)
            h.combine(v)
        }
    }

    public var digest: String { Identity.hex(fields.map { "\($0.0)=\($0.1)\n" }.joined()) }

    /// `vcpus 2 → 4, memory 2GiB → 4GiB`
    public func differences(from old: MachineSpec) -> [String] {
        var out: [String] = []
        let oldMap = Dictionary(old.fields, uniquingKeysWith: { a, _ in a })
        let newMap = Dictionary(fields, uniquingKeysWith: { a, _ in a })
        for (k, v) in fields {
            if let o = oldMap[k] {
                if o != v { out.append("\(k) \(o) → \(v)") }
            } else {
                out.append("\(k) (new) → \(v)")
            }
        }
        for (k, o) in old.fields where newMap[k] == nil { out.append("\(k) \(o) → (gone)") }
        return out
    }

    public static func of(_ m: Machine, base: BaseVolumeRef, seedDigest: String) -> MachineSpec {
        let p = m.profile
        var f: [(String, String)] = [
            ("host", m.host.name),
            ("image", base.identity),
            ("profile", p.name),
            ("accel", m.accel.rawValue),
            ("cpu", DomainRenderer.cpuModeDescription(m)),
            ("vcpus", "\(m.vcpus)"),
            ("memory", m.memory.description),
            ("disk", m.disk.description),
            ("vcpupin", m.vcpuPins.isEmpty ? "none" : m.vcpuPins.map(\.description).joined(separator: " ")),
            ("emulatorpin", m.emulatorPin?.description ?? "none"),
            ("iothreadpin", m.iothreadPin?.description ?? "none"),
            ("hugepages", p.hugepages.rawValue),
            ("numa", m.numaNode.map { "\(p.numa.rawValue):\($0)" } ?? "none"),
            ("disk.cache", p.diskCache.rawValue),
            ("disk.io", p.diskIO.rawValue),
            ("disk.iothread", "\(p.iothread)"),
            ("net.queues", DomainRenderer.queues(m).map(String.init) ?? "none"),
            ("net.vhost", "\(p.vhost)"),
        ]
        for (i, n) in m.nics.enumerated() {
            f.append(("nic\(i)", "\(n.network.name) \(n.mac) \(n.address)"))
        }
        if let k = base.kernel { f.append(("kernel", k.identity)) }
        if let i = base.initrd { f.append(("initrd", i.identity)) }
        if let c = m.image.cmdline, base.kernel != nil { f.append(("cmdline", c)) }
        f.append(("seed", seedDigest))
        return MachineSpec(fields: f)
    }
}
