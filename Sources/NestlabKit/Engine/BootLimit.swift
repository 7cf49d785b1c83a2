import Foundation
import Synchronization

/// How many VMs may boot at once on one host (`up --boot-limit`).
public enum BootLimit: Sendable, Equatable, CustomStringConvertible {
    /// On TCG hosts, a VM starts only while the vCPUs of the VMs still booting there fit the
    /// host's CPUs (one VM always may); on KVM hosts there is no limit.
    case auto
    /// Every VM starts at once.
    case none
    /// At most this many VMs boot at once per host, whatever the accelerator.
    case count(Int)

    public init?(argument: String) {
        switch argument {
        case "auto": self = .auto
        case "none": self = .none
        default:
            guard let n = Int(argument), n >= 1, n <= 64 else { return nil }
            self = .count(n)
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .none: return "none"
        case .count(let n): return "\(n)"
        }
    }
}
