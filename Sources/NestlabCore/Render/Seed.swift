import Foundation

/// The NoCloud seed of one machine: `user-data`, `meta-data`, `network-config`.
public struct Seed: Sendable, Hashable {
    public var userData: String
    public var metaData: String
    public var networkConfig: String
    public var instanceID: String

    /// Digest of the seed's contents (the instance id is derived from it).
    public var digest: String { Identity.hex(userData + "\u{0}" + networkConfig + "\u{0}" + metaData) }

    /// The files of the seed, in the order they go into the ISO.
    public var files: [(name: String, data: Data)] {
        [
            ("meta-data", Data(metaData.utf8)), ("network-config", Data(networkConfig.utf8)),
            ("user-data", Data(userData.utf8)),
        ]
    }

    /// The seed volume's name: lab, machine and a content hash, so a changed seed is a new volume.
    public func volumeName(for machine: Machine, lab: String) -> String {
        "\(lab)-\(machine.name)-seed-\(digest.prefix(12)).iso"
    }
}
