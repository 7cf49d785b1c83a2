import Foundation

/// What `down` removed, and what it left because it is not the lab's.
public struct DownReport: Codable, Sendable {
    public var lab: String
    public var domains: [String] = []
    public var volumes: [String] = []
    public var networks: [String] = []
    public var pools: [String] = []
    public var images: [String] = []
    /// Objects that look like the lab's by name but are not nestlab's (kept).
    public var kept: [String] = []
    public var stateRemoved = false
    public var seconds: Double = 0

    public var removedAnything: Bool {
        !(domains.isEmpty && volumes.isEmpty && networks.isEmpty && pools.isEmpty && images.isEmpty)
    }
}
