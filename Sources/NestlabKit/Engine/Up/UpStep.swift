import Foundation
import NestlabCore

/// One step of `up`: a small type with a name (shown in the progress and the lab log) that
/// does one thing to the lab, concurrently inside itself where the work allows.
protocol UpStep: Sendable {
    var name: String { get }
    func run(_ context: UpContext) async throws
}
