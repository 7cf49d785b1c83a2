import Foundation
import NestlabCore

/// What `up` has done so far, shared by its steps and their concurrent tasks (behind a Mutex
/// in ``UpContext``): the report's rows, what was created, and the guests being watched.
struct UpLedger: Sendable {
    var created = 0
    var networksCreated: [String] = []
    var imagesPlaced: [String] = []
    var volumesReplaced: [String] = []
    var results: [String: UpReport.MachineResult] = [:]
    var clusterResults: [UpReport.ClusterResult] = []
    /// Guests whose readiness is awaited, by machine name.
    var watchers: [String: ConsoleWatcher] = [:]
    /// Moves a machine's state refused as not in ``MachineState/canMove(to:)`` (a bug if any).
    var refusedMoves: [String] = []

    /// Applies `update` to a machine's row; a state change is applied only when the table allows it.
    mutating func record(_ name: String, _ update: (inout UpReport.MachineResult) -> Void) {
        guard var row = results[name] else { return }
        let before = row.state
        update(&row)
        if !before.canMove(to: row.state) {
            refusedMoves.append("\(name): \(before) → \(row.state)")
            row.state = before
        }
        results[name] = row
    }
}
