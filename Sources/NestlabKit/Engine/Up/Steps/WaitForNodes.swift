import Foundation
import NestlabCore

/// The guests' readiness reports and the bare-metal nodes' bootstraps (over SSH), all at once:
/// bare-metal nodes bootstrap while the VMs boot.
struct WaitForNodes: UpStep {
    let name = "wait for nodes"

    func run(_ context: UpContext) async throws {
        async let hosts: Void = BareMetalBootstrap(context: context).run()
        await waitForGuests(context)
        await hosts
    }

    private func waitForGuests(_ context: UpContext) async {
        let watchers = context.ledger.withLock { $0.watchers }
        await withTaskGroup(of: Void.self) { group in
            for (name, w) in watchers {
                group.addTask {
                    let outcome = await w.wait(timeout: context.options.readyTimeout)
                    await GuestOutcome(context: context).settle(name, w, outcome)
                }
            }
            if !watchers.isEmpty {
                Interruption.shared.install { for w in watchers.values { w.cancel() } }
                // Interrupted already (say, while a VM waited for its turn to boot): stop waiting now.
                if Interruption.shared.isRequested { for w in watchers.values { w.cancel() } }
            }
        }
    }
}
