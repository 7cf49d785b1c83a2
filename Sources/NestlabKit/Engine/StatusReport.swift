import Foundation
import Libvirt
import NestlabCore

/// `nestlab status`: one row per machine, read back from libvirt.
public struct StatusReport: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var machine: String
        public var host: String
        public var domain: String
        public var cluster: String?
        public var state: String
        public var accel: String
        public var vcpus: Int
        public var memoryMiB: UInt64
        /// LabHost CPUs per vCPU as libvirt applied them (read back, not echoed from the topology).
        public var vcpuPins: [[Int]]
        public var emulatorPin: [Int]?
        public var hugepageKiB: UInt64?
        public var addresses: [String]
        public var addressSource: String
        public var ready: Bool
        public var instance: String?
        /// When the topology is known: what differs from it.
        public var drift: [String]?
    }

    public var lab: String
    public var machines: [Row]
    /// Machines the topology has that libvirt does not.
    public var missing: [String]
}
