import Foundation

/// One step of `snapshot`: a small type with a name (shown in the progress and the lab log) that
/// does one thing to the lab, concurrently inside itself where the work allows.
protocol SnapshotStep: Sendable {
    var name: String { get }
    func run(_ context: SnapshotContext) async throws
}
