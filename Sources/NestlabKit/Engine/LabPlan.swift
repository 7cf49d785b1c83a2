import Foundation
import Libvirt
import NestlabCore

public struct LabPlan: Sendable {
    public var machines: [MachinePlan]
    public var networks: [NetworkPlan]
    /// Base images (volume names) missing per host.
    public var missingImages: [String: [String]]
    /// Domains tagged for this lab that the topology no longer has.
    public var orphans: [String: [String]]

    public var isNoop: Bool {
        machines.allSatisfy { if case .unchanged(true) = $0.action { return true } else { return false } }
            && networks.allSatisfy(\.exists) && missingImages.values.allSatisfy(\.isEmpty)
    }
}
