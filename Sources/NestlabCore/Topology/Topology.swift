import Foundation

/// A parsed topology file: what the user wrote, typed, before defaults that need
/// the host (CPU numbering, KVM availability) are applied.
public struct Topology: Sendable {
    public var name: String
    /// Path of the file it came from (as given), and its directory for relative paths.
    public var file: String
    public var hosts: [LabHost]
    public var images: [Image]
    public var networks: [Network]
    public var profiles: [Profile]
    public var machines: [MachineGroup]
    public var clusters: [Cluster]
    public var handoff: Handoff?
    /// SHA-256 of the file's bytes.
    public var digest: String
    /// Where each key path was written, for diagnostics after parsing.
    public var locations: [String: FileLocation]

    public func host(named n: String) -> LabHost? { hosts.first { $0.name == n } }
    public func image(named n: String) -> Image? { images.first { $0.name == n } }
    public func network(named n: String) -> Network? { networks.first { $0.name == n } }
    public func machineGroup(named n: String) -> MachineGroup? { machines.first { $0.name == n } }
}
