import Foundation

/// Resolves a profile name through `extends` down to the presets.
public struct ProfileResolver {
    let topology: Topology

    public init(topology: Topology) { self.topology = topology }

    func lookup(_ name: String) -> Profile? {
        topology.profiles.first { $0.name == name } ?? Presets.profile(named: name)
    }

    /// The fully resolved profile, or the cycle found.
    public func resolve(_ name: String) -> Result<ResolvedProfile, ProfileCycle> {
        var chain: [Profile] = []
        var names: [String] = []
        var current: String? = name
        while let n = current {
            if names.contains(n) { return .failure(ProfileCycle(names: names + [n])) }
            names.append(n)
            guard let p = lookup(n) else { return .failure(ProfileCycle(names: names, missing: n)) }
            chain.append(p)
            current = p.extends
        }
        var r = ResolvedProfile(name: name)
        for p in chain.reversed() {
            if let v = p.cpuMode { r.cpuMode = v }
            if let v = p.nested { r.nested = v }
            if let v = p.pinning { r.pinning = v }
            if let v = p.emulatorPin { r.emulatorPin = v }
            if let v = p.iothreadPin { r.iothreadPin = v }
            if let v = p.hugepages { r.hugepages = v }
            if let v = p.numa { r.numa = v }
            if let v = p.numaNode { r.numaNode = v }
            if let v = p.diskCache { r.diskCache = v }
            if let v = p.diskIO { r.diskIO = v }
            if let v = p.iothread { r.iothread = v }
            if let v = p.netQueues { r.netQueues = v }
            if let v = p.vhost { r.vhost = v }
        }
        return .success(r)
    }
}
