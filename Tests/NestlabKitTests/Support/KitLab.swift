import Foundation
import Libvirt
import NestlabCore
import NestlabKit
import Spawn

/// A lab on a throwaway libvirt test-driver host, all of it in one temp folder.
///
/// The host is `test:///<dir>/node.xml`: every new connection to a node file starts a
/// fresh fake host, so the lab keeps one `ConnectionPool` and hands it to every
/// `LabSession.open`; `up`, `down`, `status` and the assertions then all see the same
/// libvirt state. Base images, seeds and overlays land in `<dir>/storage` (nestlab
/// writes pool files itself when the pool folder exists here; the test driver only
/// registers them), state and caches in `<dir>/state` and `<dir>/cache`.
final class KitLab: @unchecked Sendable {
    // Set up in init, read-only afterwards, except the topology file that tests rewrite.
    let name: String
    let dir: URL
    let uri: String
    let connections = ConnectionPool()
    let store: StateStore

    var storage: String { dir.appendingPathComponent("storage").path }
    var imagesDir: String { "\(storage)/images" }
    var labPoolDir: String { "\(storage)/\(name)" }
    var topologyPath: String { dir.appendingPathComponent("lab.yaml").path }
    var baseImage: String { dir.appendingPathComponent("img/base.qcow2").path }
    var kernel: String { dir.appendingPathComponent("img/vmlinuz").path }
    var initrd: String { dir.appendingPathComponent("img/initrd.img").path }

    /// Host CPUs of the fake node (the test driver reports no NUMA cells for a node
    /// file, so topologies name them with `cpus:`).
    static let hostCPUs = 8

    init(name: String = "kt", machines: String = KitLab.twoVMs, profile: String = KitLab.tunedProfile) throws {
        self.name = name
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-kit-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(dir.path)/storage/images", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(dir.path)/storage/\(name)", withIntermediateDirectories: true)
        store = StateStore(root: dir.appendingPathComponent("state"))
        let node = dir.appendingPathComponent("node.xml")
        try Self.nodeXML.write(to: node, atomically: true, encoding: .utf8)
        uri = "test://\(node.path)"

        // A real (tiny) qcow2 made by qemu-img, and stand-in kernel and initrd bytes.
        try run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", baseImage, "64M"])
        try Data("fake kernel for \(name)\n".utf8).write(to: URL(fileURLWithPath: kernel))
        try Data((0..<3000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: initrd))
        try writeTopology(machines: machines, profile: profile)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    static let nodeXML = """
        <?xml version="1.0"?>
        <node>
          <cpu>
            <mhz>2400</mhz>
            <model>i686</model>
            <active>\(hostCPUs)</active>
            <nodes>1</nodes>
            <sockets>1</sockets>
            <cores>4</cores>
            <threads>2</threads>
          </cpu>
          <memory>16777216</memory>
        </node>
        """

    /// Two machines `vm-0`, `vm-1`: 2 vCPUs pinned by nestlab, 512 MiB on 2M hugepages.
    static let twoVMs = machineGroup(
        name: "vm", count: 2, vcpus: 2, memory: "512MiB", disk: "2GiB", address: "10.77.0.10")

    static let tunedProfile = """
          tuned:
            extends: paper-default
            cpu: {pinning: auto, emulatorPin: auto}
            memory: {hugepages: 2M}
        """

    static func machineGroup(
        name: String, count: Int? = nil, vcpus: Int, memory: String, disk: String, address: String,
        profile: String = "tuned"
    ) -> String {
        """
          - name: \(name)
        \(count.map { "    count: \($0)\n" } ?? "")    host: h1
            image: deb
            profile: \(profile)
            vcpus: \(vcpus)
            memory: \(memory)
            disk: \(disk)
            network: {lab: \(address)}
        """
    }

    func topologyYAML(machines: String, profile: String = KitLab.tunedProfile, overcommit: Bool = false) -> String {
        """
        name: \(name)
        hosts:
          - name: h1
            libvirt: \(uri)
            storageDir: \(storage)
            cpus: "1-\(Self.hostCPUs - 1)"
            reservedCPUs: "0"
            overcommit: \(overcommit)
        images:
          deb:
            file: \(baseImage)
            kernel: \(kernel)
            initrd: \(initrd)
            cmdline: root=/dev/vda console=ttyS0
        networks:
          lab: {mode: nat, cidr: 10.77.0.0/24}
        profiles:
        \(profile)
        machines:
        \(machines)

        """
    }

    func writeTopology(machines: String, profile: String = KitLab.tunedProfile, overcommit: Bool = false) throws {
        try topologyYAML(machines: machines, profile: profile, overcommit: overcommit)
            .write(toFile: topologyPath, atomically: true, encoding: .utf8)
    }

    // MARK: nestlab's engine

    var environment: [String: String] {
        [
            "HOME": dir.path, "XDG_CACHE_HOME": dir.appendingPathComponent("cache").path,
            "NESTLAB_STATE_DIR": store.root.path, "PATH": "/usr/bin:/bin",
        ]
    }

    var options: LabSession.Options {
        var o = LabSession.Options()
        o.environment = environment
        o.stateStore = store
        o.cacheRoot = dir.appendingPathComponent("cache")
        o.connections = connections
        return o
    }

    /// Opens the lab from its topology file, on the lab's shared connections.
    func open() throws -> LabSession { try LabSession.open(file: topologyPath, options: options) }

    static let quiet = ProgressView(mode: .quiet)

    static func upOptions(recreate: Bool = false, only: Set<String>? = nil) -> UpOptions {
        var o = UpOptions()
        o.wait = false  // the test driver has no console to watch
        o.recreate = recreate
        o.only = only
        return o
    }

    @discardableResult
    func up(recreate: Bool = false, only: Set<String>? = nil) async throws -> UpReport {
        let s = try open()
        return try await UpEngine(
            session: s, options: Self.upOptions(recreate: recreate, only: only), progress: Self.quiet
        ).run()
    }

    @discardableResult
    func down(only: Set<String>? = nil, purge: Bool = false) async throws -> DownReport {
        let s = try open()
        var o = DownEngine.Options()
        o.only = only
        o.purge = purge
        return try await DownEngine.run(
            lab: name, sessions: Array(s.sessions.values), state: s.state, options: o, progress: Self.quiet)
    }

    func plan() throws -> LabPlan { try Planner.plan(try open()) }

    // MARK: libvirt, asked directly

    var connection: Connection {
        get throws { try connections.connection(uri: uri) }
    }

    func domain(_ machine: String) throws -> Domain { try connection.domain(named: "\(name)-\(machine)") }

    func pool(_ name: String) throws -> StoragePool { try connection.storagePool(named: name) }

    func volumeNames(_ pool: String) throws -> [String] {
        guard let p = try connection.storagePoolIfExists(named: pool) else { return [] }
        return try p.listAllVolumes().map(\.name).sorted()
    }

    /// SHA-256 of a file as `sha256sum` computes it (not nestlab's own hashing).
    static func sha256(_ path: String) throws -> String {
        let out = try run("/usr/bin/sha256sum", [path])
        return String(out.prefix(64))
    }
}

/// Everything a libvirt host holds, as plain values, to compare before and after a run.
struct LibvirtSnapshot: Equatable, CustomStringConvertible {
    var domains: [String: DomainFacts] = [:]
    var networks: [String: String] = [:]  // name → "uuid active"
    var pools: [String: String] = [:]  // name → "uuid active"
    var volumes: [String: String] = [:]  // pool/name → volume XML

    struct DomainFacts: Equatable {
        var uuid: String
        var id: UInt32?
        var active: Bool
        var xml: String
    }

    init(_ c: Connection) throws {
        for d in try c.listAllDomains() {
            domains[d.name] = DomainFacts(
                uuid: d.uuid, id: d.id, active: try d.isActive(), xml: try d.xmlDesc(flags: .inactive))
        }
        for n in try c.listAllNetworks() { networks[n.name] = "\(n.uuid) \(try n.isActive())" }
        for p in try c.listAllStoragePools() {
            pools[p.name] = "\(p.uuid) \(try p.isActive())"
            guard try p.isActive() else { continue }
            for v in try p.listAllVolumes() { volumes["\(p.name)/\(v.name)"] = try v.xmlDesc() }
        }
    }

    var description: String {
        "domains \(domains.keys.sorted()), networks \(networks.keys.sorted()), pools \(pools.keys.sorted()), volumes \(volumes.keys.sorted())"
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}

/// Runs a tool to completion; throws with its stderr when it fails.
@discardableResult
func run(_ tool: String, _ args: [String]) throws -> String {
    let r = try SpawnedProcess.run([tool] + args)
    guard r.status == 0 else {
        throw CommandFailed(description: "\(tool) \(args.joined(separator: " ")) exited \(r.status): \(r.errors)")
    }
    return r.output
}
