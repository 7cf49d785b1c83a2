import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// What a watcher does about a guest kernel that hangs during boot (see ``BootStallDetector``).
public struct StallPolicy: Sendable {
    /// Seconds of silence before init that count as a hang.
    public var silence: TimeInterval
    /// Resets to try before the machine counts as failed.
    public var maxResets: Int
    /// Told about each reset, for the progress view and the log.
    public var note: @Sendable (String) -> Void
    public init(silence: TimeInterval = 120, maxResets: Int = 1, note: @escaping @Sendable (String) -> Void = { _ in })
    {
        self.silence = silence
        self.maxResets = maxResets
        self.note = note
    }
}
