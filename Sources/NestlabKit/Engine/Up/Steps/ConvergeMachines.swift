import Foundation
import NestlabCore

/// Every selected machine brought to its desired state: per host at most `--parallel` at once,
/// in the topology's order, hosts side by side. Machines to be waited for leave a console
/// watcher in the ledger for ``WaitForNodes``.
struct ConvergeMachines: UpStep {
    let name = "converge machines"

    func run(_ context: UpContext) async throws {
        let byHost = Dictionary(grouping: context.selected) { $0.rendered.machine.host.name }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for plans in byHost.values {
                group.addTask { try await converge(onOneHost: plans, context) }
            }
            try await group.waitForAll()
        }
    }

    /// One host's machines, in the topology's order, at most `--parallel` at once.
    private func converge(onOneHost plans: [MachinePlan], _ context: UpContext) async throws {
        let s = context.s
        let options = context.options
        try await withThrowingTaskGroup(of: (String, ConsoleWatcher?).self) { group in
            var it = plans.makeIterator()
            var running = 0
            func launch(_ p: MachinePlan) {
                // Queued in the topology's order as it is launched, so that the first queued
                // machine is always being prepared or waiting at the gate: never a deadlock.
                let name = p.rendered.machine.name
                let gate =
                    options.wait
                    ? s.sessions[p.rendered.machine.host.name].flatMap { context.bootGate(for: p.rendered, $0) } : nil
                gate?.enqueue(name)
                group.addTask {
                    let w = await MachineConvergence(context: context, plan: p).run()
                    gate?.withdraw(name)  // no-op once it took its share
                    return (name, w)
                }
            }
            while running < max(1, options.parallel), let p = it.next() {
                launch(p)
                running += 1
            }
            while let (name, w) = try await group.next() {
                if let w { context.ledger.withLock { $0.watchers[name] = w } }
                if !Interruption.shared.isRequested, let p = it.next() { launch(p) }
            }
        }
    }
}
