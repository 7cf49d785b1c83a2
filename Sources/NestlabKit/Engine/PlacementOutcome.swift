import Foundation
import Libvirt
import NestlabCore

/// What placing a volume did.
public enum PlacementOutcome: Sendable, Equatable {
    /// A volume of that name held exactly the content.
    case present
    case placed
    /// A volume of that name held something else (the reason): it was deleted and placed anew.
    case replaced(String)
}
