import Foundation

/// The result of `up`, for people and for `--output json`.
public struct UpReport: Codable, Sendable {
    public struct MachineResult: Codable, Sendable {
        public var name: String
        public var host: String
        public var action: String
        public var state: MachineState
        public var address: String?
        public var ready: Bool?
        public var instance: String?
        public var drift: [String]?
        public var error: String?
        public var failedPhase: String?
        public var consoleTail: [String]?
    }

    public struct ClusterResult: Codable, Sendable {
        public var name: String
        public var apiServer: String
        public var ready: Bool
        public var nodes: [ClusterReadiness.NodeState]
        public var error: String?
    }

    public var lab: String
    public var changed: Bool
    public var machines: [MachineResult]
    public var clusters: [ClusterResult] = []
    public var networksCreated: [String]
    public var imagesPlaced: [String]
    /// Volumes (`HOST:NAME: why`) that had the right name but not the right content, and were replaced.
    public var volumesReplaced: [String] = []
    public var seconds: Double
    public var warnings: [String]
    public var ok: Bool
}
