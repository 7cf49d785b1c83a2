import Foundation
import NestlabCore
import Synchronization

/// Everything a command needs about one lab: the topology, its state folder,
/// connections to its hosts, their facts, the resolved lab and its rendering.
public final class LabSession: Sendable {
    // Built once in `open`, read-only afterwards.
    public let topology: Topology
    public let warnings: [Diagnostic]
    public let state: LabState
    public let sessions: [String: HostSession]
    public let facts: [String: HostFacts]
    public let lab: Lab
    public let secrets: LabSecrets
    public let images: [String: LocalImage]
    public let rendered: RenderedLab
    public let cacheRoot: URL
    /// The clusters, with every node's bootstrap rendered.
    public let clusters: [PlannedCluster]
    /// The lock file next to the topology, when there is one.
    public let lock: LockFile?
    /// Lab gateway addresses where `up` serves the artifact cache to guests.
    public let mirrorAddresses: [String]

    public struct Options: Sendable {
        /// Plan without reaching hosts: assumed facts (see `HostFacts.assumed`).
        public var offline = false
        public var environment = ProcessInfo.processInfo.environment
        public var stateStore: StateStore?
        public var cacheRoot: URL?
        /// KVM usability per host, when preflight already probed it.
        public var kvm: [String: Bool] = [:]
        /// Render URL images that are not downloaded yet with a placeholder identity (plan);
        /// otherwise they must be in the artifact cache (up fetches them first).
        public var allowUnfetched = false
        /// Connections to reuse (one process opening a lab several times); nil opens new ones.
        public var connections: ConnectionPool?
        /// Write the lab's secrets (SSH keys, cluster PKI) when they are missing; a dry run
        /// (`plan`, `preflight`) makes them in memory only and writes nothing.
        public var persistSecrets = true
        /// The topology, parsed and validated already by the command (one parse per command);
        /// nil parses `file`.
        public var parsed: (topology: Topology, warnings: [Diagnostic])?

        public init() {}
    }

    init(
        topology: Topology, warnings: [Diagnostic], state: LabState, sessions: [String: HostSession],
        facts: [String: HostFacts],
        lab: Lab, secrets: LabSecrets, images: [String: LocalImage], rendered: RenderedLab, cacheRoot: URL,
        clusters: [PlannedCluster], lock: LockFile?, mirrors: [String]
    ) {
        self.topology = topology
        self.warnings = warnings
        self.state = state
        self.sessions = sessions
        self.facts = facts
        self.lab = lab
        self.secrets = secrets
        self.images = images
        self.rendered = rendered
        self.cacheRoot = cacheRoot
        self.clusters = clusters
        self.lock = lock
        self.mirrorAddresses = mirrors
    }

    /// Clusters whose nodes can install from nestlab's mirror instead of the internet: every
    /// node a VM on a local host, every artifact pinned by the lock file and in the cache.
    static func mirrorPlan(topology: Topology, lab: Lab, lock: LockFile?, cache: ArtifactCache) -> [String: (
        url: String, address: String
    )] {
        guard let lock else { return [:] }
        var out: [String: (String, String)] = [:]
        for c in topology.clusters {
            var vms: [Machine] = []
            var allVMs = true
            for ref in c.allNodes {
                switch ref {
                case .host: allVMs = false
                case .machine(let m): vms += lab.machines.filter { $0.group == m || $0.name == m }
                }
            }
            guard allVMs, let cp = vms.first,
                vms.allSatisfy({ $0.host.isLocal && !LibvirtURI.isTestDriver($0.host.libvirt) }),
                let gw = cp.nics.first?.network.effectiveGateway, cp.nics.first?.network.mode == .nat
            else { continue }
            let cached = ArtifactCatalog.refs(for: c).allSatisfy { r in
                guard let e = lock.entry(r.name), e.url == r.url, let url = URL(string: r.url) else { return false }
                return (try? cache.cached(ArtifactRequest(name: r.name, url: url, sha256: e.sha256))) != nil
            }
            if cached { out[c.name] = ("http://\(gw):\(ArtifactMirror.defaultPort)", gw.description) }
        }
        return out
    }

    /// Loads and validates the topology (throws `TopologyError`), connects to its hosts
    /// (unless offline), and renders the lab.
    public static func open(file: String, options: Options = Options()) throws -> LabSession {
        let (topology, warnings) =
            try options.parsed ?? TopologyParser(environment: options.environment, checksFiles: true).load(path: file)
        let store = options.stateStore ?? StateStore.default(environment: options.environment)
        let state = store.lab(topology.name)
        let cacheRoot = options.cacheRoot ?? DigestCache.defaultRoot(environment: options.environment)

        let (sessions, facts) = try connectUsedHosts(topology, options: options)
        let lab = try LabResolver(topology: topology, facts: facts).resolve()

        let secrets = try LabSecrets.ensure(
            state, clusters: topology.clusters.map(\.name), machines: lab.machines.map(\.name),
            persist: options.persistSecrets)
        let lock = try LockFile.load(forTopology: file)
        let digests = DigestCache(cacheRoot: cacheRoot)
        let artifacts = ArtifactCache(root: cacheRoot)
        let images = try localImages(
            lab, topology, digests: digests, lock: lock, cache: artifacts, allowUnfetched: options.allowUnfetched)
        var bases: [String: [String: BaseVolumeRef]] = [:]
        for m in lab.machines {
            guard let local = images[m.image.name] else { continue }
            bases[m.host.name, default: [:]][m.image.name] = BaseImages.ref(for: local, host: m.host)
        }
        var material: [String: ClusterMaterial] = [:]
        for (name, c) in secrets.clusters {
            material[name] = ClusterMaterial(
                token: c.token.value, caCertificatePEM: try c.ca.certificatePEM,
                caKeyPEM: c.ca.privateKeyPEM, discoveryHash: c.discoveryHash)
        }
        let mirrors = mirrorPlan(topology: topology, lab: lab, lock: lock, cache: artifacts)
        let clusters = try ClusterPlanner.plan(
            lab: lab, material: material, lock: lock, mirrors: mirrors.mapValues(\.url))
        let payloads = ClusterPlanner.payloads(clusters)
        let clusterWarnings = unpinnedWarnings(clusters, topology, lock: lock, file: file)
        let rendered = try LabRenderer.render(
            lab: lab, bases: bases, sshKeys: [secrets.ssh.authorizedKey],
            hostKeys: secrets.hostKeys
        ) { payloads[$0.name] ?? .empty }
        return LabSession(
            topology: topology, warnings: warnings + lab.warnings + clusterWarnings, state: state, sessions: sessions,
            facts: facts, lab: lab, secrets: secrets, images: images, rendered: rendered, cacheRoot: cacheRoot,
            clusters: clusters, lock: lock, mirrors: Array(Set(mirrors.values.map(\.address))).sorted())
    }

    /// The hosts that have machines: connected to, with their facts (assumed when offline).
    private static func connectUsedHosts(_ topology: Topology, options: Options) throws
        -> ([String: HostSession], [String: HostFacts])
    {
        var sessions: [String: HostSession] = [:]
        var facts: [String: HostFacts] = [:]
        let usedHosts = Set(topology.machines.map(\.host))
        let hosts = topology.hosts.filter { usedHosts.contains($0.name) }
        if options.offline {
            for h in hosts { facts[h.name] = HostFacts.assumed(for: h, in: topology) }
        } else {
            for (s, f) in try connectAll(hosts, options: options) {
                sessions[s.host.name] = s
                facts[s.host.name] = f
            }
        }
        return (sessions, facts)
    }

    /// Every image the lab's machines use, found locally, by name.
    private static func localImages(
        _ lab: Lab, _ topology: Topology, digests: DigestCache, lock: LockFile?, cache: ArtifactCache,
        allowUnfetched: Bool
    ) throws -> [String: LocalImage] {
        var images: [String: LocalImage] = [:]
        for name in Set(lab.machines.map(\.image.name)) {
            guard let img = topology.image(named: name) else { continue }
            images[name] = try localImage(
                img, digests: digests, lock: lock, cache: cache, allowUnfetched: allowUnfetched)
        }
        return images
    }

    /// A warning for each cluster with artifacts whose digest is not pinned in the lock file.
    private static func unpinnedWarnings(
        _ clusters: [PlannedCluster], _ topology: Topology, lock: LockFile?, file: String
    ) -> [Diagnostic] {
        var clusterWarnings: [Diagnostic] = []
        for c in clusters {
            let unpinned = c.artifacts.filter { ArtifactCatalog.digest($0, lock: lock) == Artifact.unpinnedDigest }
            if !unpinned.isEmpty {
                clusterWarnings.append(
                    Diagnostic(
                        .warning, at: topology.locations["clusters.\(c.cluster.name)"],
                        path: "clusters.\(c.cluster.name)",
                        "\(unpinned.count) artifact(s) have no pinned digest (\(unpinned.map(\.name).joined(separator: ", "))); nodes refuse them until they are pinned",
                        hint:
                            "run `nestlab cache fetch \(file)` on a machine with internet to write \(URL(fileURLWithPath: LockFile.path(forTopology: file)).lastPathComponent)"
                    ))
            }
        }
        return clusterWarnings
    }

    /// Connects to every host at once and reads its facts. Nothing is created on any host: a
    /// lab whose hosts cannot all be reached fails here, naming each host that failed.
    static func connectAll(_ hosts: [LabHost], options: Options) throws -> [(HostSession, HostFacts)] {
        let results = Mutex<[Int: Result<(HostSession, HostFacts), any Error>]>([:])
        Blocking.each(hosts.count) { i in
            let h = hosts[i]
            let r = Result { () throws -> (HostSession, HostFacts) in
                let s = try HostSession(host: h, connections: options.connections)
                let kvm = try options.kvm[h.name] ?? KVMCheck.usable(s)
                return (s, try s.facts(kvmUsable: kvm))
            }
            results.withLock { $0[i] = r }
        }
        let all = results.withLock { $0 }
        var ok: [(HostSession, HostFacts)] = []
        var failed: [HostConnectError.Failure] = []
        for i in hosts.indices {
            switch all[i]! {
            case .success(let pair): ok.append(pair)
            case .failure(let e): failed.append(.init(host: hosts[i].name, uri: hosts[i].libvirt, error: e))
            }
        }
        if !failed.isEmpty { throw HostConnectError(failures: failed, reached: ok.map { $0.0.host.name }) }
        return ok
    }

    static func localImage(
        _ img: Image, digests: DigestCache, lock: LockFile?, cache: ArtifactCache, allowUnfetched: Bool
    ) throws -> LocalImage {
        let disk: LocalFile
        switch img.source {
        case .file(let path):
            disk = try digests.sha256(of: path)
        case .url(let url, let pinned, _):
            if let a = LabArtifacts.cachedImage(img, lock: lock, cache: cache) {
                disk = LocalFile(path: a.path.path, sha256: a.sha256, size: UInt64(a.size))
            } else if allowUnfetched {
                // Not downloaded yet: the plan names it by its pinned digest, or by its URL until fetched.
                let id =
                    pinned ?? lock?.entry(ArtifactCatalog.imageName(img.name))?.sha256 ?? "unfetched-"
                    + Identity.hex(url)
                disk = LocalFile(path: "", sha256: id, size: 0)
            } else {
                throw ImageError.notFetched(image: img.name, url: url)
            }
        }
        return LocalImage(
            image: img, disk: disk,
            kernel: try img.kernel.map { try digests.sha256(of: $0) },
            initrd: try img.initrd.map { try digests.sha256(of: $0) })
    }
}
