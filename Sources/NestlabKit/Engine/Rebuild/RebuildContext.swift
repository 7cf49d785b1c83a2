import Foundation
import NestlabCore
import Synchronization

/// What the steps of `rebuild` share: the session, where the lab is rebuilt from, the options of
/// the `up` that brings it back, and, behind Mutexes, what the steps make: the golden layers'
/// paths that the fresh overlays sit on (written by concurrent tasks), and `up`'s report.
final class RebuildContext: Sendable {
    let s: LabSession
    let source: RebuildEngine.Source
    let options: UpOptions
    let progress: ProgressView
    /// Machine name → path of the golden layer its new overlay is based on (`rebuild --from`).
    let goldenBacking = Mutex<[String: String]>([:])
    let up = Mutex<UpReport?>(nil)

    init(session: LabSession, source: RebuildEngine.Source, options: UpOptions, progress: ProgressView) {
        s = session
        self.source = source
        self.options = options
        self.progress = progress
    }

    /// The golden state this rebuild starts from; the golden steps run only for that source.
    var golden: GoldenState {
        guard case .golden(let g) = source else {
            preconditionFailure("a golden-state step ran in a fresh rebuild")
        }
        return g
    }
}
