import Foundation
import Libvirt
import NestlabCore

public enum SnapshotError: Error, CustomStringConvertible {
    case shutdownTimeout(machine: String, seconds: Int)
    case missingLayer(machine: String, volume: String, host: String)
    case layerInUse(volume: String, by: String)

    public var description: String {
        switch self {
        case .shutdownTimeout(let m, let s):
            return
                "\(m) did not shut down within \(s)s (ACPI power button); check that the guest handles it, or shut it down by hand"
        case .missingLayer(let m, let v, let h):
            return "the golden layer \(v) of \(m) is gone from \(h); take a new snapshot or rebuild --fresh"
        case .layerInUse(let v, let by):
            return
                "golden layer \(v) is the base of \(by), the machine's current disk; rebuild --fresh first, or keep the golden state"
        }
    }
}
