import Foundation
import Libvirt
import NestlabCore
import NestlabKit

/// `nestlab-bench updown N [--repeat R]`: nestlab's own time for `up` and `down` of an
/// N-machine lab against libvirt's test driver (an in-process fake host, so nearly all
/// the time measured is nestlab's: planning, rendering, seeds, bookkeeping).
///
/// Each repetition starts from a fresh fake host and a fresh temp folder; the figures
/// are medians. Wall time and process CPU time (user + system) are both shown: `up`
/// prepares machines in parallel, so wall time can be lower than CPU time.
func benchUpDown(_ args: [String]) async throws {
    var n: Int?
    var repeats = 3
    var it = args.makeIterator()
    while let a = it.next() {
        if a == "--repeat", let v = it.next().flatMap(Int.init), v >= 1 {
            repeats = v
            continue
        }
        if let v = Int(a), n == nil {
            n = v
            continue
        }
        n = nil
        break
    }
    // A test-driver pool holds 100 GiB and counts an overlay at its full size (1 GiB at least), so
    // the lab has one fake host per 100 machines (each a test driver of its own node file).
    guard let n, (1...10_000).contains(n) else {
        print(
            "usage: nestlab-bench updown N [--repeat R]   (N machines, 1 to 10000; one test-driver host per 100)"
        )
        exit(2)
    }

    var samples: [UpDownSample] = []
    for _ in 0..<repeats {
        let run = try UpDownRun(machines: n)
        defer { run.cleanUp() }
        samples.append(try await run.measure())
    }
    func median(_ f: (UpDownSample) -> Double) -> Double {
        let v = samples.map(f).sorted()
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }
    let d = Double(n)
    func ms(_ s: Double) -> String { String(format: "%.2f", s * 1000) }
    func perMachine(_ wall: Double, _ cpu: Double) -> String {
        "\(ms(wall)) ms wall, \(ms(cpu)) ms cpu = \(ms(wall / d)) ms wall, \(ms(cpu / d)) ms cpu per machine"
    }
    print("updown N=\(n), median of \(repeats):")
    print(
        "  up   (open + converge):        " + perMachine(median { $0.open + $0.up }, median { $0.openCPU + $0.upCPU }))
    print("    of which open (parse, connect, render): " + perMachine(median(\.open), median(\.openCPU)))
    print(
        "  no-op up (open + plan, nothing to do): \(ms(median(\.noop))) ms wall, \(ms(median(\.noopCPU))) ms cpu"
            + " = \(ms(median(\.noop) / d)) ms per machine")
    print("  down (parse, connect, remove): " + perMachine(median(\.down), median(\.downCPU)))
}

struct UpDownSample {
    var open: Double
    var openCPU: Double
    var up: Double
    var upCPU: Double
    var noop: Double
    var noopCPU: Double
    var down: Double
    var downCPU: Double
}

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
    /// render), then converge. `down` as `nestlab down FILE` runs it: parse, connect, remove.
    func measure() async throws -> UpDownSample {
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
        let again = try await UpEngine(
            session: try LabSession.open(file: topology, options: options), options: up, progress: progress
        ).run()
        let (noop, noopCPU) = (t.lap(), t.cpuLap())
        guard again.ok, !again.changed else { throw BenchError("a second up changed the lab") }

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

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Wall-clock and process-CPU laps.
struct Stopwatch {
    private var wall = ContinuousClock.now
    private var cpu = Stopwatch.cpuNow()

    mutating func lap() -> Double {
        let now = ContinuousClock.now
        let d = now - wall
        wall = now
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    mutating func cpuLap() -> Double {
        let now = Self.cpuNow()
        defer { cpu = now }
        return now - cpu
    }

    static func cpuNow() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(
            u.ru_stime.tv_usec) / 1e6
    }
}
