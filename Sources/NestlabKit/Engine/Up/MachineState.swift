import Foundation

/// Where one machine is during `up`, and the moves it may make. Reported as its raw value
/// (`--output json` keeps the words it always had).
public enum MachineState: String, Codable, Sendable, CustomStringConvertible {
    /// Planned; nothing done yet.
    case unknown
    /// Its domain differs from the topology and is left alone (no `--recreate`).
    case drift
    /// Started, or found running.
    case running
    /// A step failed for it (the report says which and why).
    case failed
    /// A bare-metal cluster node, bootstrapped over SSH (never a domain).
    case bareMetal = "bare metal"

    public var description: String { rawValue }

    /// The moves `up` makes. Staying put is always allowed; `failed` and `drift` are final, and a
    /// bare-metal node never becomes a machine state.
    public func canMove(to next: MachineState) -> Bool {
        if next == self { return true }
        switch (self, next) {
        case (.unknown, .drift), (.unknown, .running), (.unknown, .failed), (.running, .failed):
            return true
        default:
            return false
        }
    }
}
