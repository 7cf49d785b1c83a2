import Foundation
import NestlabCore

/// The volumes in the lab's own pool (if the pool really is the lab's): overlays and seeds, and
/// with `--purge` golden layers; anything not named by nestlab stays and is listed as kept.
struct RemoveVolumes: DownStep {
    let name = "remove volumes"

    func run(_ host: DownHost) throws {
        let (lab, wanted, purge) = (host.lab, host.options.only, host.options.purge)
        let poolName = Lab.poolName(lab: lab)
        guard let pool = try host.session.connection.storagePoolIfExists(named: poolName) else { return }
        guard pool.uuid.lowercased() == Identity.uuid("pool", lab).lowercased() else {
            host.note { $0.kept.append("\(host.hostName): storage pool \(poolName) (not this lab's)") }
            return
        }
        try ErrorWithContext.wrap("removing volumes of \(poolName) on \(host.hostName)") {
            if !(try pool.isActive()) { try pool.create() }
            try pool.refresh()
            for v in try pool.listAllVolumes() {
                let n = v.name
                // Golden layers outlive down (rebuild --from uses them); --purge removes them.
                if n.contains("-golden-") && !purge { continue }
                guard DownEngine.isLabVolume(n, lab: lab, only: wanted) else {
                    if wanted == nil {
                        host.note {
                            $0.kept.append("\(host.hostName): volume \(n) in \(poolName) (not named by nestlab)")
                        }
                    }
                    continue
                }
                try v.delete()
                host.note { $0.volumes.append("\(host.hostName):\(n)") }
            }
        }
    }
}
