import Foundation

/// One step of `rebuild`: a small type with a name (shown in the progress and the lab log) that
/// does one thing to the lab, concurrently inside itself where the work allows.
protocol RebuildStep: Sendable {
    var name: String { get }
    func run(_ context: RebuildContext) async throws
}
