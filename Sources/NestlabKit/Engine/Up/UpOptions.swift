import Foundation

/// How `up` (and `rebuild`) converge a lab.
public struct UpOptions: Sendable {
    /// How many machines are prepared at once on each host (hosts are prepared side by side).
    public var parallel = 4
    /// Recreate machines whose spec drifted from the topology.
    public var recreate = false
    /// Wait for every machine to report that cloud-init finished.
    public var wait = true
    public var readyTimeout: TimeInterval = 900
    /// Only these machines (rebuild --machine); nil means all.
    public var only: Set<String>?
    /// Machine → golden layer path: new overlays go on these instead of the base image (rebuild --from).
    public var goldenBacking: [String: String] = [:]
    /// How long to wait for each cluster's API server and nodes once its machines are ready.
    public var clusterTimeout: TimeInterval = 600
    /// Console silence (seconds) before init that counts as a hung kernel; 0 turns the check off.
    public var bootStallSeconds: TimeInterval = 120
    /// Resets of a hung guest before it counts as failed.
    public var bootStallResets = 1
    /// How many VMs boot at once per host (see ``BootLimit``).
    public var bootLimit: BootLimit = .auto

    public init() {}
}
