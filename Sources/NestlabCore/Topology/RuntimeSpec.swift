import Foundation

/// A runtime to install in a cluster, with its pinned version and knobs.
public enum RuntimeSpec: Sendable, Hashable {
    case runc
    case crun
    case kata(KataOptions)
    case urunc(UruncOptions)
    case kubevirt(KubeVirtOptions)

    public var name: String {
        switch self {
        case .runc: return "runc"
        case .crun: return "crun"
        case .kata: return "kata"
        case .urunc: return "urunc"
        case .kubevirt: return "kubevirt"
        }
    }

    /// Whether the runtime needs `/dev/kvm` inside the node.
    public var needsKVM: Bool {
        switch self {
        case .runc, .crun: return false
        case .kata: return true
        case .urunc(let u): return u.monitors.contains { $0 != .solo5Spt }
        case .kubevirt(let k): return k.emulation == .off
        }
    }
}
