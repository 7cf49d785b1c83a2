import Foundation
import NestlabCore

/// The lab brought up as `up` does (`UpEngine`, whose own steps the progress names in turn): the
/// domains that are gone are defined again (on the golden layers after `replace disks`), stopped
/// ones are started, and the machines are waited for.
struct BringUp: RebuildStep {
    let name = "bring up"

    func run(_ context: RebuildContext) async throws {
        var options = context.options
        options.goldenBacking = context.goldenBacking.withLock { $0 }
        let report = try await UpEngine(session: context.s, options: options, progress: context.progress).run()
        context.up.withLock { $0 = report }
    }
}
