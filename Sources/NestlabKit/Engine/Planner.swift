import Foundation
import Libvirt
import NestlabCore

/// Compares the rendered lab with what libvirt holds.
public enum Planner {
    public static func plan(_ s: LabSession) throws -> LabPlan {
        var machines: [MachinePlan] = []
        var networks: [NetworkPlan] = []
        var missing: [String: [String]] = [:]
        var orphans: [String: [String]] = [:]
        for (hostName, session) in s.sessions.sorted(by: { $0.key < $1.key }) {
            let tagged = try session.labDomains(s.lab.name)
            let byName = Dictionary(tagged.map { ($0.meta.machine, $0) }, uniquingKeysWith: { a, _ in a })
            // One call per host: which seeds are still in the lab's pool.
            let labVolumes = Set(
                try session.connection.storagePoolIfExists(named: Lab.poolName(lab: s.lab.name))?.listAllVolumes().map(
                    \.name) ?? [])
            for rm in s.rendered.machines where rm.machine.host.name == hostName {
                if let (d, meta) = byName[rm.machine.name] {
                    let action: MachineAction
                    if meta.specDigest == rm.spec.digest {
                        action = .unchanged(running: (try? d.isActive()) ?? false)
                    } else {
                        action = .drift(rm.spec.differences(from: meta.spec))
                    }
                    machines.append(
                        MachinePlan(
                            rendered: rm, action: action, readyInstance: meta.readyInstance,
                            seedInPool: labVolumes.contains(rm.seedVolume)))
                } else if try session.connection.domainIfExists(named: rm.machine.domainName) != nil {
                    machines.append(MachinePlan(rendered: rm, action: .foreign, readyInstance: nil))
                } else {
                    machines.append(MachinePlan(rendered: rm, action: .create, readyInstance: nil))
                }
            }
            let wanted = Set(s.rendered.machines.filter { $0.machine.host.name == hostName }.map(\.machine.name))
            orphans[hostName] = tagged.map(\.meta.machine).filter { !wanted.contains($0) }.sorted()
            for (net, xml) in s.rendered.networks where xml != nil && net.hosts.contains(hostName) {
                let exists = try session.connection.networkIfExists(named: net.libvirtName) != nil
                networks.append(NetworkPlan(network: net, host: hostName, exists: exists))
            }
            let pool = try session.connection.storagePoolIfExists(named: Lab.imagePoolName)
            var names = Set<String>()
            for rm in s.rendered.machines where rm.machine.host.name == hostName {
                names.insert(rm.base.disk.name)
                if let k = rm.base.kernel { names.insert(k.name) }
                if let i = rm.base.initrd { names.insert(i.name) }
            }
            missing[hostName] = try names.sorted().filter { try pool?.volumeIfExists(named: $0) == nil }
        }
        return LabPlan(machines: machines, networks: networks, missingImages: missing, orphans: orphans)
    }
}
