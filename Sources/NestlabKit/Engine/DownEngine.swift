import Foundation
import Libvirt
import NestlabCore
import Synchronization

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

    public var removedAnything: Bool { !(domains.isEmpty && volumes.isEmpty && networks.isEmpty && pools.isEmpty && images.isEmpty) }
}

/// `nestlab down`: removes exactly the lab's objects (tagged domains, volumes in
/// its own pool, networks with its derived UUIDs) and never a foreign one.
public enum DownEngine {
    public struct Options: Sendable {
        /// Also remove base images no other lab uses, golden snapshots and the lab's local state.
        public var purge = false
        /// Only these machines (rebuild --machine); networks and pools stay.
        public var only: Set<String>?

        public init() {}
    }

    public static func run(lab: String, sessions: [HostSession], state: LabState, options: Options,
                           progress: ProgressView) async throws -> DownReport {
        let started = Date()
        var report = DownReport(lab: lab)
        // All hosts at once; the report lists them in the order given.
        let parts = try await withThrowingTaskGroup(of: (Int, DownReport).self) { group in
            for (i, session) in sessions.enumerated() {
                group.addTask { (i, try await Blocking.run { try down(lab: lab, session: session, options: options, progress: progress) }) }
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

    static func down(lab: String, session: HostSession, options: Options, progress: ProgressView) throws -> DownReport {
        var r = DownReport(lab: lab)
        let host = session.host.name
        let c = session.connection
        let wanted = options.only

        // Domains tagged for the lab, all at once (destroying a QEMU takes a second or more).
        let domains = try session.labDomains(lab).filter { wanted == nil || wanted!.contains($0.meta.machine) }
        let failures = Mutex<[Int: any Error]>([:])
        DispatchQueue.concurrentPerform(iterations: domains.count) { i in
            let (d, meta) = domains[i]
            progress.update(meta.machine, "removing domain")
            do {
                try session.removeDomain(d)
                progress.finish(meta.machine, "removed")
            } catch {
                progress.finish(meta.machine, "not removed", failed: true, detail: "\(error)")
                failures.withLock { $0[i] = error }
            }
        }
        if let first = failures.withLock({ $0.sorted { $0.key < $1.key }.first?.value }) { throw first }
        r.domains = domains.map { "\(host):\($0.domain.name)" }

        // Volumes in the lab's own pool (if the pool is really ours).
        let poolName = Lab.poolName(lab: lab)
        if let pool = try c.storagePoolIfExists(named: poolName) {
            if pool.uuid.lowercased() != Identity.uuid("pool", lab).lowercased() {
                r.kept.append("\(host): storage pool \(poolName) (not this lab's)")
            } else {
                try ErrorWithContext.wrap("removing volumes of \(poolName) on \(host)") {
                    if !(try pool.isActive()) { try pool.create() }
                    try pool.refresh()
                    for v in try pool.listAllVolumes() {
                        let n = v.name
                        // Golden layers outlive down (rebuild --from uses them); --purge removes them.
                        if n.contains("-golden-") && !options.purge { continue }
                        guard isLabVolume(n, lab: lab, only: wanted) else {
                            if wanted == nil { r.kept.append("\(host): volume \(n) in \(poolName) (not named by nestlab)") }
                            continue
                        }
                        try v.delete()
                        r.volumes.append("\(host):\(n)")
                    }
                }
                if wanted == nil {
                    try ErrorWithContext.wrap("removing storage pool \(poolName) on \(host)") {
                        let left = try pool.listAllVolumes()
                        if !left.isEmpty && left.allSatisfy({ $0.name.contains("-golden-") }) {
                            r.kept.append("\(host): \(left.count) golden layer(s) in \(poolName) (down --purge removes them)")
                        }
                        if left.isEmpty {
                            if try pool.isActive() { try pool.destroy() }
                            if !session.isTestDriver { try? pool.deleteStorage() }
                            try pool.undefine()
                            r.pools.append("\(host):\(poolName)")
                        }
                    }
                }
            }
        }

        // Networks named LAB-NET whose UUID nestlab derived for (LAB, NET).
        if wanted == nil {
            for n in try c.listAllNetworks() where n.name.hasPrefix("\(lab)-") {
                let netName = String(n.name.dropFirst(lab.count + 1))
                guard n.uuid.lowercased() == Identity.uuid("network", lab, netName).lowercased() else {
                    r.kept.append("\(host): network \(n.name) (not this lab's)")
                    continue
                }
                try ErrorWithContext.wrap("removing network \(n.name) on \(host)") {
                    if try n.isActive() { try n.destroy() }
                    try n.undefine()
                }
                r.networks.append("\(host):\(n.name)")
            }
        }

        if options.purge && wanted == nil {
            r.images = try purgeImages(session: session)
        }
        return r
    }

    /// Overlays `LAB-M.qcow2`, seeds `LAB-M-seed-HASH.iso`, golden layers `LAB-M-golden-NAME.qcow2`.
    static func isLabVolume(_ name: String, lab: String, only: Set<String>?) -> Bool {
        guard name.hasPrefix("\(lab)-") else { return false }
        guard let only else { return true }
        return only.contains { m in
            name == "\(lab)-\(m).qcow2" || name.hasPrefix("\(lab)-\(m)-seed-")
        }
    }

    /// Deletes base images, kernels and initrds that no domain on the host refers to any more.
    static func purgeImages(session: HostSession) throws -> [String] {
        let c = session.connection
        guard let pool = try c.storagePoolIfExists(named: Lab.imagePoolName),
              pool.uuid.lowercased() == Identity.uuid("pool", "images").lowercased() else { return [] }
        return try ErrorWithContext.wrap("purging unused base images on \(session.host.name)") {
            var referenced = Set<String>()
            for d in try c.listAllDomains() {
                let xml = try d.xmlDesc(flags: .inactive)
                for e in MiniXML.elements(xml) where ["kernel", "initrd", "path"].contains(e.localName) { referenced.insert(e.text) }
                if let meta = try d.metadataIfPresent(uri: NestlabXMLNS.uri, flags: .config).flatMap(LabMetadata.parse),
                   let base = meta.volume("base") {
                    referenced.insert(base.name)
                }
            }
            // Overlays of any lab pool point at their base through <backingStore>.
            for p in try c.listAllStoragePools() where p.name.hasPrefix("nestlab-") && p.name != Lab.imagePoolName {
                guard try p.isActive() else { continue }
                for v in try p.listAllVolumes() {
                    for e in MiniXML.elements(try v.xmlDesc()) where e.localName == "path" { referenced.insert(e.text) }
                }
            }
            var removed: [String] = []
            let dir = try pool.targetPath() ?? ""
            for v in try pool.listAllVolumes() {
                let n = v.name
                guard n.hasPrefix("base-") || n.hasPrefix("kernel-") || n.hasPrefix("initrd-") else { continue }
                if referenced.contains(n) || referenced.contains("\(dir)/\(n)") || referenced.contains((try? v.path()) ?? "") { continue }
                try v.delete()
                removed.append("\(session.host.name):\(n)")
            }
            return removed
        }
    }
}
