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
            try HostCapabilities(xml: try connection.capabilities(), of: host.name)
        }
        return Self.facts(from: caps, kvmUsable: kvmUsable)
    }

    static func facts(from caps: HostCapabilities, kvmUsable: Bool) -> HostFacts {
        var vendor: CPUVendor?
        if let v = caps.cpuVendor?.lowercased() {
            vendor = v.contains("amd") ? .amd : (v.contains("intel") ? .intel : nil)
        }
        var nodes: [Int: CPUSet] = [:]
        for cell in caps.numaCells {
            nodes[cell.id] = nodes[cell.id, default: .empty].union(CPUSet(cell.cpus))
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
                if let ip = try NetworkDescription(xml: current, of: net.libvirtName).ips.first,
                    ip.address != net.network.cidr.firstHost.description
                        || ip.netmask != net.network.cidr.netmask.description
                {
                    throw HostError.networkDrift(
                        name: net.libvirtName, host: host.name,
                        detail:
                            "it has \(ip.address ?? "?")/\(ip.netmask ?? "?"), the topology wants \(net.network.cidr)"
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
                guard let xml, let meta = try LabMetadata.parse(xml, domain: d.name), meta.lab == lab else { continue }
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
