import Foundation
import Libvirt
import NestlabCore
import NestlabKit

/// One lab of N machines on a fresh test-driver host in a temp folder.
final class UpDownRun {
    let dir: URL
    let machines: Int
    let topology: String
    let connections = ConnectionPool()

    init(machines: Int) throws {
        self.machines = machines
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-bench-\(UUID().uuidString)")
        let fm = FileManager.default
        let hostCount = (machines + UpDownRun.perHost - 1) / UpDownRun.perHost
        let storage = (0..<hostCount).flatMap { ["storage/h\($0)/images", "storage/h\($0)/bench"] }
        for sub in ["img", "state", "cache"] + storage {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // Stand-in image bytes: nestlab copies and hashes them; the test driver never reads them.
        try Data(repeating: 0x51, count: 256 << 10).write(to: dir.appendingPathComponent("img/disk.qcow2"))
        try Data(repeating: 0x4b, count: 64 << 10).write(to: dir.appendingPathComponent("img/vmlinuz"))
        try Data(repeating: 0x49, count: 64 << 10).write(to: dir.appendingPathComponent("img/initrd.img"))
        topology = dir.appendingPathComponent("bench.yaml").path
        try Self.topologyText(dir: dir, machines: machines, hosts: hostCount)
            .write(toFile: topology, atomically: true, encoding: .utf8)
    }

    /// The lab: one fake host (a node file of its own), NAT network and machine group per 100 machines.
    static func topologyText(dir: URL, machines: Int, hosts hostCount: Int) throws -> String {
        let d = dir.path
        var hosts = ""
        var networks = ""
        var groups = ""
        for k in 0..<hostCount {
            let node = dir.appendingPathComponent("node\(k).xml")
            try nodeXML.write(to: node, atomically: true, encoding: .utf8)
            hosts += """
                  - name: h\(k)
                    libvirt: test://\(node.path)
                    storageDir: \(d)/storage/h\(k)
                    cpus: "1-15"
                    reservedCPUs: "0"
                    overcommit: true

                """
            networks += "  lab\(k): {mode: nat, cidr: 10.\(k / 200).\(k % 200).0/24}\n"
            let count = min(UpDownRun.perHost, machines - k * UpDownRun.perHost)
            groups += """
                  - name: vm\(k)
                    count: \(count)
                    host: h\(k)
                    image: deb
                    profile: tuned
                    vcpus: 2
                    memory: 512MiB
                    disk: 1GiB
                    network: {lab\(k): 10.\(k / 200).\(k % 200).10}

                """
        }
        return """
            name: bench
            hosts:
            \(hosts)images:
              deb:
                file: \(d)/img/disk.qcow2
                kernel: \(d)/img/vmlinuz
                initrd: \(d)/img/initrd.img
            networks:
            \(networks)profiles:
              tuned:
                extends: paper-default
                cpu: {pinning: auto, emulatorPin: auto}
                memory: {hugepages: 2M}
            machines:
            \(groups)
            """
    }

    /// Machines per fake host: a test-driver pool holds 100 GiB, an overlay counts 1 GiB.
    static let perHost = 100

    static let nodeXML = """
        <?xml version="1.0"?>
        <node>
          <cpu><mhz>2400</mhz><model>i686</model><active>16</active><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>2</threads></cpu>
          <memory>268435456</memory>
        </node>
        """

    func cleanUp() { try? FileManager.default.removeItem(at: dir) }

    var options: LabSession.Options {
        var o = LabSession.Options()
        o.environment = ["HOME": dir.path, "PATH": "/usr/bin:/bin"]
        o.stateStore = StateStore(root: dir.appendingPathComponent("state"))
        o.cacheRoot = dir.appendingPathComponent("cache")
        o.connections = connections
        return o
    }

    /// `up` as `nestlab up FILE` runs it (without preflight): open the lab (parse, connect,
    /// render), then converge; then `noops` times the same again, which finds nothing to do (the
    /// median of those is the no-op figure). `down` as `nestlab down FILE` runs it: parse,
    /// connect, remove.
    func measure(noops: Int = 1) async throws -> UpDownSample {
        let progress = ProgressView(mode: .quiet)
        var t = Stopwatch()
        let session = try LabSession.open(file: topology, options: options)
        let (open, openCPU) = (t.lap(), t.cpuLap())

        var up = UpOptions()
        up.wait = false
        let report = try await UpEngine(session: session, options: up, progress: progress).run()
        let (upWall, upCPU) = (t.lap(), t.cpuLap())
        guard report.ok, report.machines.count == machines else {
            throw BenchError("up did not create \(machines) machines")
        }

        // `nestlab up FILE` again: open the lab, plan, find nothing to do.
        var laps: [(wall: Double, cpu: Double)] = []
        for _ in 0..<noops {
            let again = try await UpEngine(
                session: try LabSession.open(file: topology, options: options), options: up, progress: progress
            ).run()
            laps.append((t.lap(), t.cpuLap()))
            guard again.ok, !again.changed else { throw BenchError("a second up changed the lab") }
        }
        let (noop, noopCPU) = (Summary(laps.map(\.wall))?.median ?? .nan, Summary(laps.map(\.cpu))?.median ?? .nan)

        let (topo, _) = try TopologyParser(environment: options.environment).load(path: topology)
        let sessions = try topo.hosts.map { try HostSession(host: $0, connections: connections) }
        let removed = try await DownEngine.run(
            lab: topo.name, sessions: sessions, state: session.state,
            options: DownEngine.Options(), progress: progress)
        let (downWall, downCPU) = (t.lap(), t.cpuLap())
        guard removed.domains.count == machines, try sessions.allSatisfy({ try $0.connection.listAllDomains().isEmpty })
        else {
            throw BenchError("down did not remove the \(machines) machines")
        }
        return UpDownSample(
            open: open, openCPU: openCPU, up: upWall, upCPU: upCPU, noop: noop, noopCPU: noopCPU,
            down: downWall, downCPU: downCPU)
    }
}
