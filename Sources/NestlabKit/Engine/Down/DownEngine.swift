import Foundation
import NestlabCore
import Synchronization

/// `nestlab down`: removes exactly the lab's objects (tagged domains, volumes in its own pool,
/// networks with its derived UUIDs) and never a foreign one.
///
/// Every host at once, and on each host these steps in order (the host's progress row names the
/// step it is at):
/// 1. remove domains: every domain tagged for the lab, all at once (destroy, undefine);
/// 2. remove volumes: overlays, seeds (and with `--purge` golden layers) in the lab's own pool;
/// 3. remove the pool, once it is empty (not for `rebuild --machine`);
/// 4. remove networks whose UUID nestlab derived for the lab (not for `rebuild --machine`);
/// 5. with `--purge`: base images, kernels and initrds no domain refers to any more.
///
/// Then, with `--purge`, the lab's local state.
public enum DownEngine {
    public struct Options: Sendable {
        /// Also remove base images no other lab uses, golden snapshots and the lab's local state.
        public var purge = false
        /// Only these machines (rebuild --machine); networks and pools stay.
        public var only: Set<String>?

        public init() {}
    }

    static func pipeline(_ options: Options) -> [any DownStep] {
        var steps: [any DownStep] = [RemoveDomains(), RemoveVolumes()]
        if options.only == nil { steps += [RemovePool(), RemoveNetworks()] }
        if options.purge && options.only == nil { steps.append(PurgeUnusedImages()) }
        return steps
    }

    public static func run(
        lab: String, sessions: [HostSession], state: LabState, options: Options,
        progress: ProgressView
    ) async throws -> DownReport {
        let started = Date()
        var report = DownReport(lab: lab)
        // All hosts at once; the report lists them in the order given.
        let parts = try await withThrowingTaskGroup(of: (Int, DownReport).self) { group in
            for (i, session) in sessions.enumerated() {
                let host = DownHost(lab: lab, session: session, options: options, progress: progress)
                group.addTask { (i, try await Blocking.run { try host.run(pipeline(options)) }) }
            }
            var out: [Int: DownReport] = [:]
            for try await (i, part) in group { out[i] = part }
            return out.sorted { $0.key < $1.key }.map(\.value)
        }
        for part in parts {
            report.domains += part.domains
            report.volumes += part.volumes
            report.networks += part.networks
            report.pools += part.pools
            report.images += part.images
            report.kept += part.kept
        }
        if options.purge && options.only == nil {
            try state.remove()
            report.stateRemoved = true
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Overlays `LAB-M.qcow2`, seeds `LAB-M-seed-HASH.iso`, golden layers `LAB-M-golden-NAME.qcow2`.
    static func isLabVolume(_ name: String, lab: String, only: Set<String>?) -> Bool {
        guard name.hasPrefix("\(lab)-") else { return false }
        guard let only else { return true }
        return only.contains { m in
            name == "\(lab)-\(m).qcow2" || name.hasPrefix("\(lab)-\(m)-seed-")
        }
    }
}
