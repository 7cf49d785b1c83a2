import Crypto
import Foundation

/// A topology resolved against its hosts: the desired state of the lab.
public struct Lab: Sendable {
    public var topology: Topology
    public var name: String { topology.name }
    public var machines: [Machine]
    public var networks: [LabNetwork]
    public var warnings: [Diagnostic]

    public func machines(on host: String) -> [Machine] { machines.filter { $0.host.name == host } }
    public func machine(named n: String) -> Machine? { machines.first { $0.name == n } }

    /// The lab's storage pool on a host (overlays and seeds).
    public static func poolName(lab: String) -> String { "nestlab-\(lab)" }
    public static let imagePoolName = "nestlab-images"

    public static func poolPath(lab: String, host: LabHost) -> String { "\(host.storageDir)/\(lab)" }
    public static func imagePoolPath(host: LabHost) -> String { "\(host.storageDir)/images" }

    /// Name of a base image volume: content-addressed, shared by labs on a host.
    public static func baseVolumeName(sha256: String, format: Image.Format) -> String {
        "base-\(sha256.prefix(16)).\(format.rawValue)"
    }
}
