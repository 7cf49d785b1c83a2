import Foundation
import NestlabCore

/// The machines start again on their fresh overlays and are waited for as `up` waits: this step
/// runs `UpEngine`, whose own steps the progress names in turn.
struct StartAgain: SnapshotStep {
    let name = "start again"

    func run(_ context: SnapshotContext) async throws {
        _ = try await UpEngine(session: context.s, options: context.options, progress: context.progress).run()
    }
}
