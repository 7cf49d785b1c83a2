import Foundation
import Synchronization

/// Counts the topology parses made in a task and the tasks it starts: each command parses its
/// topology once and hands the typed result on, and tests hold it to that.
public final class ParseCount: Sendable {
    private let count = Mutex(0)

    public init() {}

    public var value: Int { count.withLock { $0 } }

    func add() { count.withLock { $0 += 1 } }

    /// The count the current task reports to, if any (set with `ParseCount.$current.withValue`).
    @TaskLocal public static var current: ParseCount?
}
