import Foundation
import Libvirt
import NestlabCore

/// The golden state must describe this topology, and every machine's golden layer must be in the
/// lab pool on its host, before any machine is stopped or any disk replaced: a missing layer
/// found halfway would leave some machines on fresh overlays and others untouched.
struct CheckGoldenState: RebuildStep {
    let name = "check the golden state"

    func run(_ context: RebuildContext) async throws {
        let s = context.s
        let g = context.golden
        if let why = g.mismatch(with: s) {
            throw UsageError(
                "golden state '\(g.name)' does not match the topology: \(why); use `nestlab rebuild --fresh`, or take a new snapshot"
            )
        }
        let pool = Lab.poolName(lab: s.lab.name)
        for rm in s.rendered.machines {
            let m = rm.machine
            guard let hs = s.sessions[m.host.name], let layer = g.layer(of: m.name) else { continue }
            let present = try await Blocking.run {
                try hs.connection.storagePoolIfExists(named: pool)?.volumeIfExists(named: layer.volume) != nil
            }
            if !present { throw SnapshotError.missingLayer(machine: m.name, volume: layer.volume, host: m.host.name) }
        }
    }
}
