import Foundation
import NestlabCore

/// Every machine is up, unchanged and has reported ready, as the topology says; otherwise
/// `snapshot` stops here, before anything is touched.
struct CheckMachinesReady: SnapshotStep {
    let name = "check machines are ready"

    func run(_ context: SnapshotContext) async throws {
        for mp in context.plan.machines {
            guard case .unchanged(running: true) = mp.action, mp.readyInstance == mp.rendered.seed.instanceID else {
                throw UsageError(
                    "machine \(mp.rendered.machine.name) is not up and ready as the topology says (\(mp.action.label)); run `nestlab up` first"
                )
            }
        }
    }
}
