import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// One libvirt connection to a host, with the lab-level operations nestlab
/// performs there. Every operation names what it was doing in its errors.
public final class HostSession: Sendable {
    // Connection is Sendable (libvirt serializes per connection); the rest is immutable.
    public let host: LabHost
    public let connection: Connection

    /// Connects to the host's libvirt, or reuses the pool's connection to the same URI.
    public init(host: LabHost, connections: ConnectionPool? = nil) throws {
        self.host = host
        do {
            connection = try connections?.connection(uri: host.libvirt) ?? Connection(uri: host.libvirt)
        } catch {
            throw ErrorWithContext(
                "connecting to libvirt at \(host.libvirt) for host '\(host.name)'", HostError.unreachable(error))
        }
    }

    public var isTestDriver: Bool { LibvirtURI.isTestDriver(host.libvirt) }

    // MARK: facts

    /// CPUs, NUMA layout and CPU vendor from libvirt's capabilities.
    public func facts(kvmUsable: Bool) throws -> HostFacts {
        let caps = try ErrorWithContext.wrap("reading capabilities of host '\(host.name)'") {
            try connection.capabilities()
        }
        return Self.facts(fromCapabilities: caps, kvmUsable: kvmUsable)
    }

    static func facts(fromCapabilities caps: String, kvmUsable: Bool) -> HostFacts {
        let elements = MiniXML.elements(caps)
        var vendor: CPUVendor?
        if let v = elements.first(where: { $0.localName == "vendor" })?.text.lowercased() {
            vendor = v.contains("amd") ? .amd : (v.contains("intel") ? .intel : nil)
        }
        var nodes: [Int: CPUSet] = [:]
        var current: Int?
        for e in elements {
            if e.localName == "cell", let id = e.attributes["id"].flatMap(Int.init) {
                current = id
                nodes[id] = nodes[id] ?? .empty
            }
            if e.localName == "cpu", let id = e.attributes["id"].flatMap(Int.init), let c = current {
                nodes[c] = nodes[c, default: .empty].union(CPUSet([id]))
            }
        }
        let online = nodes.values.reduce(CPUSet.empty) { $0.union($1) }
        return HostFacts(cpuVendor: vendor, onlineCPUs: online, numaNodes: nodes, kvmUsable: kvmUsable)
    }

    // MARK: pools

    /// Makes sure a dir pool exists, is ours (same UUID) and is running.
    @discardableResult
    public func ensurePool(name: String, path: String, uuid: String) throws -> StoragePool {
        try ErrorWithContext.wrap("preparing storage pool \(name) on \(host.name)") {
            if let pool = try connection.storagePoolIfExists(named: name) {
                guard pool.uuid.lowercased() == uuid.lowercased() else {
                    throw HostError.foreignObject(kind: "storage pool", name: name, host: host.name)
                }
                if !(try pool.isActive()) {
                    try? pool.build()
                    try pool.create()
                }
                return pool
            }
            let xml = StorageRenderer.pool(name: name, path: path, uuid: uuid).render()
            let pool = try connection.defineStoragePool(xml: xml)
            do {
                if !isTestDriver { try pool.build() }
                try pool.create()
                try pool.setAutostart(true)
            } catch {
                try? pool.undefine()
                throw error
            }
            return pool
        }
    }

    // MARK: networks

    public enum NetworkState: Sendable { case created, unchanged }

    /// Makes sure a lab network exists (ours, by UUID) and is active.
    public func ensureNetwork(_ net: LabNetwork, xml: XMLElement) throws -> NetworkState {
        try ErrorWithContext.wrap("creating network \(net.libvirtName) on \(host.name)") {
            if let existing = try connection.networkIfExists(named: net.libvirtName) {
                guard existing.uuid.lowercased() == net.uuid.lowercased() else {
                    throw HostError.foreignObject(kind: "network", name: net.libvirtName, host: host.name)
                }
                let current: String
                do {
                    current = try existing.xmlDesc(inactive: true)
                } catch let e as LibvirtError where e.code == .invalidArgument {
                    // Drivers without persistent network configs (the test driver) reject the flag.
                    current = try existing.xmlDesc()
                }
                if let ip = MiniXML.first(current, "ip"),
                    ip.attributes["address"] != net.network.cidr.firstHost.description
                        || ip.attributes["netmask"] != net.network.cidr.netmask.description
                {
                    throw HostError.networkDrift(
                        name: net.libvirtName, host: host.name,
                        detail:
                            "it has \(ip.attributes["address"] ?? "?")/\(ip.attributes["netmask"] ?? "?"), the topology wants \(net.network.cidr)"
                    )
                }
                if !(try existing.isActive()) { try existing.create() }
                return .unchanged
            }
            let n = try connection.defineNetwork(xml: xml.render())
            do {
                try n.create()
                try n.setAutostart(true)
            } catch {
                try? n.undefine()
                throw error
            }
            return .created
        }
    }

    // MARK: volumes

    /// Whether files in this host's pools can be written directly (a local host whose pool folder exists here).
    public func canWriteLocally(poolPath: String) -> Bool {
        host.isLocal && !isTestDriverWithoutFolder(poolPath) && FileManager.default.isWritableFile(atPath: poolPath)
            && ProcessInfo.processInfo.environment["NESTLAB_TRANSFER"] != "upload"
    }

    private func isTestDriverWithoutFolder(_ path: String) -> Bool {
        isTestDriver && !FileManager.default.fileExists(atPath: path)
    }

    // MARK: domains

    /// All domains on this host tagged for `lab`, with their metadata.
    public func labDomains(_ lab: String) throws -> [(domain: Domain, meta: LabMetadata)] {
        try ErrorWithContext.wrap("listing domains on \(host.name)") {
            var out: [(Domain, LabMetadata)] = []
            for d in try connection.listAllDomains() {
                let xml: String?
                do {
                    xml =
                        try d.metadataIfPresent(uri: NestlabXMLNS.uri, flags: .config)
                        ?? d.metadataIfPresent(uri: NestlabXMLNS.uri)
                } catch let e as LibvirtError where e.code == .noDomain {
                    continue  // undefined between the listing and this call (another task, or another tool)
                }
                guard let xml, let meta = LabMetadata.parse(xml), meta.lab == lab else { continue }
                out.append((d, meta))
            }
            return out
        }
    }

    /// Destroys (if running) and undefines a domain.
    public func removeDomain(_ d: Domain) throws {
        let name = d.name
        try ErrorWithContext.wrap("removing domain \(name) on \(host.name)") {
            if try d.isActive() {
                // operationInvalid: it stopped meanwhile.
                do { try d.destroy() } catch let e as LibvirtError where e.code == .operationInvalid {}
            }
            // Managed-save images and snapshot metadata go too; NVRAM is not used by nestlab domains.
            try d.undefine(flags: [.managedSave, .snapshotsMetadata])
        }
    }
}

/// libvirt connections by URI, shared by the host sessions of one process.
///
/// Each command opens its hosts once, so the CLI needs no pool. A process that opens
/// a lab several times (tests, the benchmark) passes one pool to every
/// `LabSession.open`, so that all of them talk to the same libvirt state: with the test
/// driver and a node file, every new connection starts a fresh, empty fake host.
public final class ConnectionPool: Sendable {
    private let connections = Mutex<[String: Connection]>([:])

    public init() {}

    /// The pool's connection to `uri`, opened on first use.
    public func connection(uri: String) throws(LibvirtError) -> Connection {
        try connections.withLock { (all: inout [String: Connection]) throws(LibvirtError) -> Connection in
            if let c = all[uri] { return c }
            let c = try Connection(uri: uri)
            all[uri] = c
            return c
        }
    }
}

public enum HostError: Error, CustomStringConvertible {
    case unreachable(any Error)
    case foreignObject(kind: String, name: String, host: String)
    case networkDrift(name: String, host: String, detail: String)
    case system(String, errno: Int32)
    case placementUnverified(volume: String, host: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let e):
            return "\(e); is libvirtd running? (start it with `libvirtd -d`, or check the URI and your access to it)"
        case .foreignObject(let kind, let name, let host):
            return
                "\(kind) '\(name)' on \(host) exists but was not created by nestlab for this lab; rename or remove it, or rename the lab"
        case .networkDrift(let name, let host, let detail):
            return
                "network '\(name)' on \(host) differs from the topology: \(detail); run `nestlab down` first to recreate it"
        case .system(let what, let e):
            return "\(what): \(String(cString: strerror(e)))"
        case .placementUnverified(let volume, let host, let reason):
            return "volume \(volume) on host '\(host)' does not hold what was placed in it: \(reason)"
        }
    }
}

/// Sparse-aware file copy for base images (holes stay holes).
enum FileCopy {
    // Linux's lseek whence values; Glibc hides SEEK_DATA/SEEK_HOLE behind _GNU_SOURCE.
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    static func copy(from src: String, to dst: String, mode: mode_t, progress: ((UInt64) -> Void)? = nil) throws {
        let inFD = open(src, O_RDONLY | O_CLOEXEC)
        guard inFD >= 0 else { throw HostError.system("cannot open \(src)", errno: errno) }
        defer { close(inFD) }
        let outFD = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard outFD >= 0 else { throw HostError.system("cannot create \(dst)", errno: errno) }
        var ok = false
        defer {
            close(outFD)
            if !ok { unlink(dst) }
        }
        var st = stat()
        guard fstat(inFD, &st) == 0 else { throw HostError.system("cannot stat \(src)", errno: errno) }
        let size = off_t(st.st_size)
        let chunk = 4 << 20
        var buf = [UInt8](repeating: 0, count: chunk)
        var off: off_t = 0
        while off < size {
            // Skip holes: SEEK_DATA finds the next data at or after `off`.
            let data = lseek(inFD, off, Self.seekData)
            if data < 0 { break }  // ENXIO: only a hole remains
            off = data
            let holeAt = lseek(inFD, off, Self.seekHole)
            let end = holeAt < 0 ? size : min(holeAt, size)
            while off < end {
                let want = Int(min(off_t(chunk), end - off))
                let n = buf.withUnsafeMutableBytes { pread(inFD, $0.baseAddress, want, off) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw HostError.system("cannot read \(src)", errno: errno)
                }
                if n == 0 { break }
                var w = 0
                while w < n {
                    let m = buf.withUnsafeBytes { pwrite(outFD, $0.baseAddress! + w, n - w, off + off_t(w)) }
                    if m < 0 {
                        if errno == EINTR { continue }
                        throw HostError.system("cannot write \(dst)", errno: errno)
                    }
                    w += m
                }
                off += off_t(n)
                progress?(UInt64(off))
            }
        }
        guard ftruncate(outFD, size) == 0, fsync(outFD) == 0 else {
            throw HostError.system("cannot finish \(dst)", errno: errno)
        }
        ok = true
    }
}

extension HostSession {
    /// A domain's console log on this host (`path`, written by virtlogd), read through libvirt:
    /// its folder is served as a storage pool and the log downloaded as one of its volumes. A
    /// pool of the host's that already serves the folder is used as it is; otherwise a transient
    /// pool (never built, so the folder is left as it is) lives only for this read, so nothing of
    /// nestlab's stays on the host. nil when the host has no such log.
    public func consoleHistory(path: String) throws -> Data? {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        if let pool = try? connection.storagePool(targetPath: dir), (try? pool.isActive()) == true {
            try pool.refresh()
            return try pool.volumeIfExists(named: name)?.download()
        }
        let xml = XMLElement(
            "pool", [("type", "dir")],
            [
                .element(XMLElement("name", text: "nestlab-consoles-\(UUID().uuidString.prefix(8).lowercased())")),
                .element(XMLElement("target", [], [.element(XMLElement("path", text: dir))])),
            ])
        let pool = try connection.createStoragePool(xml: xml.render())
        defer { try? pool.destroy() }
        return try pool.volumeIfExists(named: name)?.download()
    }
}
