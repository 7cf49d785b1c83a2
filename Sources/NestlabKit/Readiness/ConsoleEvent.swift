import Foundation

/// What a guest said on its serial console that nestlab cares about.
public enum ConsoleEvent: Sendable, Hashable {
    /// cloud-init finished (`NESTLAB ready instance=… status=done|error code=N`).
    case ready(instance: String, ok: Bool, code: Int)
    /// A node script phase (`NESTLAB phase=NAME status=start|ok|failed detail=…`).
    case phase(name: String, status: String, detail: String)
    /// The guest kernel gave up.
    case kernelPanic(String)
}
