import Foundation
import Libvirt
import NestlabCore

public struct MachinePlan: Sendable {
    public var rendered: RenderedMachine
    public var action: MachineAction
    public var readyInstance: String?
    /// Whether the machine's seed volume is in the lab's pool (it leaves once the guest is ready).
    public var seedInPool: Bool = false
}
