import Synchronization

/// The `write_files` entry of cloud-init user-data, emitted once per distinct list of files while
/// one lab is rendered. Most machines of a lab carry the same files (nestlab's readiness reporter
/// and unit; the node scripts of a cluster role), and emitting them through Yams for every
/// machine was the largest part of rendering a seed (perf of a no-op `up`). Shared by the
/// machines rendered side by side, so behind a Mutex; it lives as long as one render.
public final class WriteFilesMemo: Sendable {
    private let emitted = Mutex<[[GuestFile]: String]>([:])

    public init() {}

    /// The entry for `files`, from an earlier machine when it had the same files, or `emit()`.
    func entry(for files: [GuestFile], emit: () -> String) -> String {
        if let known = emitted.withLock({ $0[files] }) { return known }
        let text = emit()
        emitted.withLock { $0[files] = text }
        return text
    }
}
