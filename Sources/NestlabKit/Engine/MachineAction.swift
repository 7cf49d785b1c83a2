import Foundation
import Libvirt
import NestlabCore

/// What `up` would do to one machine.
public enum MachineAction: Sendable, Equatable {
    /// Not in libvirt: create overlay, seed and domain, then start.
    case create
    /// In libvirt and matching the topology; `running` says whether it needs starting.
    case unchanged(running: Bool)
    /// In libvirt but its spec differs (listed); left alone unless `--recreate`.
    case drift([String])
    /// A domain of that name exists but is not this lab's.
    case foreign

    public var label: String {
        switch self {
        case .create: return "create"
        case .unchanged(let running): return running ? "unchanged" : "start"
        case .drift: return "drift"
        case .foreign: return "conflict"
        }
    }
}
