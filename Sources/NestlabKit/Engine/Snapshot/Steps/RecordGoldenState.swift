import Foundation
import NestlabCore

/// The golden state in the lab's state folder (`golden/NAME.json`): per machine its host, layer
/// and spec, with the topology's and the lock file's digests.
struct RecordGoldenState: SnapshotStep {
    let name = "record the golden state"

    func run(_ context: SnapshotContext) async throws {
        let s = context.s
        let layers = context.layers.withLock { $0 }
        let g = GoldenState(
            name: context.name, lab: s.lab.name, createdAt: Date(), topologyDigest: s.topology.digest,
            lockDigest: s.lock?.digest,
            machines: layers.sorted { $0.machine < $1.machine })
        try g.save(s.state)
        context.golden.withLock { $0 = g }
    }
}
