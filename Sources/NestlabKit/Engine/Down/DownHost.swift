import Foundation
import NestlabCore
import Synchronization

/// What one host's part of `down` shares: the lab, the host's session, the options, and what
/// was removed or kept there (behind a Mutex: a step's concurrent work writes it).
final class DownHost: Sendable {
    let lab: String
    let session: HostSession
    let options: DownEngine.Options
    let progress: ProgressView
    let removed: Mutex<DownReport>

    var hostName: String { session.host.name }

    init(lab: String, session: HostSession, options: DownEngine.Options, progress: ProgressView) {
        self.lab = lab
        self.session = session
        self.options = options
        self.progress = progress
        removed = Mutex(DownReport(lab: lab))
    }

    /// Runs the steps in order on this host; the host's row names the step it is at.
    func run(_ steps: [any DownStep]) throws -> DownReport {
        let row = "host \(hostName)"
        for (i, step) in steps.enumerated() {
            progress.update(row, "step \(i + 1)/\(steps.count): \(step.name)")
            do {
                try step.run(self)
            } catch {
                progress.finish(row, "stopped at \(step.name)", failed: true, detail: "\(error)")
                throw error
            }
        }
        progress.finish(row, "done")
        return removed.withLock { $0 }
    }

    func note(_ update: (inout DownReport) -> Void) { removed.withLock { update(&$0) } }
}
