import Foundation
import NestlabCore

/// `down`'s steps on every host at once (`DownEngine`, whose host rows name them), for only the
/// machines `rebuild --machine` names, and then their pool and networks stay; base images are
/// always kept.
struct TearDown: RebuildStep {
    let name = "tear down"

    func run(_ context: RebuildContext) async throws {
        var options = DownEngine.Options()
        options.only = context.options.only
        let s = context.s
        let report = try await DownEngine.run(
            lab: s.lab.name, sessions: Array(s.sessions.values), state: s.state, options: options,
            progress: context.progress)
        context.progress.note(
            "removed \(report.domains.count) domain(s) and \(report.volumes.count) volume(s); base images kept")
    }
}
