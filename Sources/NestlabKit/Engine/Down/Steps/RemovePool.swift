import Foundation
import NestlabCore

/// The lab's own pool, once nothing is left in it; golden layers keep it (and are listed).
struct RemovePool: DownStep {
    let name = "remove the pool"

    func run(_ host: DownHost) throws {
        let poolName = Lab.poolName(lab: host.lab)
        guard let pool = try host.session.connection.storagePoolIfExists(named: poolName),
            pool.uuid.lowercased() == Identity.uuid("pool", host.lab).lowercased()
        else { return }
        try ErrorWithContext.wrap("removing storage pool \(poolName) on \(host.hostName)") {
            let left = try pool.listAllVolumes()
            if !left.isEmpty && left.allSatisfy({ $0.name.contains("-golden-") }) {
                host.note {
                    $0.kept.append(
                        "\(host.hostName): \(left.count) golden layer(s) in \(poolName) (down --purge removes them)")
                }
            }
            guard left.isEmpty else { return }
            if try pool.isActive() { try pool.destroy() }
            if !host.session.isTestDriver { try? pool.deleteStorage() }
            try pool.undefine()
            host.note { $0.pools.append("\(host.hostName):\(poolName)") }
        }
    }
}
