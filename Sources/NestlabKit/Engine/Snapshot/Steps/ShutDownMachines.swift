import Foundation
import NestlabCore

/// Every machine at once: a clean shutdown (ACPI), then a wait until its domain is off, at most
/// the context's timeout.
struct ShutDownMachines: SnapshotStep {
    let name = "shut down machines"

    func run(_ context: SnapshotContext) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (rm, hs) in context.machines {
                group.addTask { try await shutDown(rm.machine, hs, context) }
            }
            try await group.waitForAll()
        }
    }

    private func shutDown(_ m: Machine, _ hs: HostSession, _ context: SnapshotContext) async throws {
        context.progress.update(m.name, "shutting down")
        let d = try await Blocking.run { try hs.connection.domain(named: m.domainName) }
        try await Blocking.run { try ErrorWithContext.wrap("shutting down \(m.domainName)") { try d.shutdown() } }
        let timeout = context.shutdownTimeout
        let deadline = Date().addingTimeInterval(timeout)
        while try await Blocking.run({ try d.isActive() }) {
            if Date() > deadline {
                throw ErrorWithContext(
                    "shutting down \(m.domainName)",
                    SnapshotError.shutdownTimeout(machine: m.name, seconds: Int(timeout)))
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        context.progress.update(m.name, "shut off")
    }
}
