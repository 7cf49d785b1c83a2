import Foundation
import Libvirt
import NestlabCore

public struct NetworkPlan: Sendable {
    public var network: LabNetwork
    public var host: String
    public var exists: Bool
}
