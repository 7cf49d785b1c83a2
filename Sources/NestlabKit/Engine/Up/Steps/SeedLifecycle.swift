import Foundation
import Libvirt
import NestlabCore

/// A VM's NoCloud seed carries its secrets (its SSH host keys; on a control plane the cluster
/// CA key and the bootstrap token), so it stays in the pool only while the guest needs it:
/// from just before a boot until nestlab has seen the guest ready.
///
/// - Once ready (`drop`), the domain's persistent definition loses the seed disk and the seed
///   volume is deleted. The running guest keeps the device it booted with until it stops; its
///   file is already gone from the pool.
/// - Before a defined domain boots again (`restore`), the seed is rendered again from the
///   topology and the lab's state, written (0600, checked), and the domain defined again with
///   the disk, exactly as `up` first defined it.
struct SeedLifecycle {
    let lab: String
    let rm: RenderedMachine
    let session: HostSession

    var m: Machine { rm.machine }

    /// The definition without the seed disk, recording `instance` as ready; then the volume
    /// is deleted. Returns whether a seed volume was there. Runs on a blocking thread.
    @discardableResult
    func drop(readyInstance instance: String) throws -> Bool {
        let meta = LabMetadata.ready(rm, lab: lab, instance: instance)
        let definition = DomainRenderer.withoutSeed(
            rm.domain, lab: lab, seedVolume: rm.seedVolume, metadata: meta)
        try ErrorWithContext.wrap("taking the seed out of \(m.domainName)'s definition on \(m.host.name)") {
            _ = try session.connection.defineDomain(xml: definition.render())
        }
        return try ErrorWithContext.wrap("deleting seed \(rm.seedVolume) on \(m.host.name)") {
            let pool = try session.connection.storagePool(named: Lab.poolName(lab: lab))
            guard let v = try pool.volumeIfExists(named: rm.seedVolume) else { return false }
            try v.delete()
            return true
        }
    }

    /// The domain defined again as the topology renders it, seed disk included (the seed volume
    /// must be in place). Returns the domain. Runs on a blocking thread.
    func restore() throws -> Domain {
        try ErrorWithContext.wrap("putting the seed back into \(m.domainName)'s definition on \(m.host.name)") {
            try session.connection.defineDomain(xml: rm.domain.render())
        }
    }
}
