import Foundation

/// A domain with a machine's name that is not the lab's stops `up` before anything is created.
struct RefuseForeignDomains: UpStep {
    let name = "refuse foreign domains"

    func run(_ context: UpContext) async throws {
        let conflicts = context.selected.filter { $0.action == .foreign }.map {
            "domain '\($0.rendered.machine.domainName)' on \($0.rendered.machine.host.name)"
        }
        if !conflicts.isEmpty { throw UpError.conflicts(conflicts) }
    }
}
