import Foundation
import NestlabCore
import NestlabKit
import Spawn

@testable import NestlabKit

/// Paths and process helpers for the hand-off and topology tests.
enum HandoffTestSupport {
    /// The package root (this file is Tests/NestlabKitTests/HandoffTestSupport.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let topologies = root.appendingPathComponent("topologies")
    static let bench = topologies.appendingPathComponent("bench")
    static let runner = bench.appendingPathComponent("run")
    static let schema = root.appendingPathComponent("docs/testbed.schema.json")
    static let example = root.appendingPathComponent("docs/testbed.example.json")

    /// The topologies shipped for the paper (ci.yaml belongs to the real-VM tier).
    static let paperTopologies = ["baremetal", "nested-default", "nested-mitigated", "single-host"]

    static var shippedTopologies: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: topologies.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { topologies.appendingPathComponent($0) }
    }

    /// The built `nestlab` executable: next to the test bundle, or in .build/debug.
    static var nestlabBinary: URL? {
        var candidates: [URL] = []
        if let arg0 = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: arg0).deletingLastPathComponent().appendingPathComponent("nestlab"))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("nestlab"))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("nestlab"))
        candidates.append(root.appendingPathComponent(".build/debug/nestlab"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to its end and collects its output (files, so large output cannot block).
    static func run(_ argv: [String], environment: [String: String]? = nil, cwd: URL? = nil, stdin: Data? = nil) throws
        -> Output
    {
        let r = try SpawnedProcess.run(
            ["/usr/bin/env"] + argv, input: stdin, environment: environment, directory: cwd?.path)
        return Output(status: r.status, stdout: r.output, stderr: r.errors)
    }

    static func temporaryDirectory(_ tag: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-\(tag)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func has(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }

    /// Whether `python3` has the given modules.
    static func python(has modules: String...) -> Bool {
        guard has("python3") else { return false }
        return (try? run(["python3", "-c", modules.map { "import \($0)" }.joined(separator: "; ")]).status) == 0
    }

    // MARK: testbed fixtures

    /// Loads a shipped topology and resolves it with the facts `plan --offline` assumes.
    static func resolvedLab(_ name: String) throws -> (Topology, NestlabCore.Lab) {
        let (t, _) = try TopologyParser(environment: [:]).load(
            path: topologies.appendingPathComponent("\(name).yaml").path)
        var facts: [String: HostFacts] = [:]
        for h in t.hosts { facts[h.name] = HostFacts.assumed(for: h, in: t) }
        return (t, try LabResolver(topology: t, facts: facts).resolve())
    }

    static let epoch = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40Z

    /// A testbed as `up` would record it, with reports standing in for libvirt and the cluster.
    static func testbed(_ name: String, stateDir: String = "/home/alice/.local/state/nestlab") throws -> Testbed {
        let (t, lab) = try resolvedLab(name)
        let labDir = "\(stateDir)/\(t.name)"
        // The same NUMA layout the lab was resolved against, so that numaNode and pinning agree.
        let hosts = t.hosts.map { h in
            Testbed.HostReport(
                name: h.name, cpuModel: "Icelake-Server", cpuVendor: .intel,
                numa: HostFacts.assumed(for: h, in: t).numaNodes, kernel: "6.8.0-49-generic",
                libvirtVersion: "10.0.0", qemuVersion: "8.2.2", kvmUsable: true)
        }
        let access = LabAccess(lab: lab, state: StateStore(root: URL(fileURLWithPath: stateDir)).lab(t.name))
        let machines = lab.machines.map { m in
            var r = Testbed.MachineReport(
                name: m.name, vcpuPins: m.vcpuPins, emulatorPin: m.emulatorPin, iothreadPin: m.iothreadPin,
                state: "running", ready: true)
            r.ssh = access.machine(named: m.name).map { Testbed.SSH($0, configFile: "\(labDir)/ssh/config") }
            return r
        }
        let clusters = t.clusters.map { c in
            let cp = lab.machines.first { $0.cluster == c.name && c.controlPlane.contains(.machine($0.group)) }
            let endpoint = cp?.primaryAddress.map { "https://\($0):6443" } ?? "https://node1:6443"
            var ready: [String: Bool] = [:]
            for m in lab.machines where m.cluster == c.name { ready[m.name] = true }
            return Testbed.ClusterReport(
                name: c.name, apiEndpoint: endpoint, kubeconfig: "\(labDir)/kubeconfig-\(c.name)",
                kubernetesVersion: "v1.33.4", nodeReady: ready,
                versions: ["runc": "1.3.0", "containerd": "2.1.4"], kubevirtEmulation: false)
        }
        let phases = ["networks", "images", "domains", "boot", "cluster", "runtimes"].enumerated().map { i, n in
            Testbed.Phase(
                name: n, start: epoch.addingTimeInterval(Double(i) * 60),
                end: epoch.addingTimeInterval(Double(i) * 60 + 42.5))
        }
        var tb = try Testbed.build(
            topology: t, lab: lab, lock: nil, hosts: hosts, machines: machines, clusters: clusters,
            phases: phases, generatedAt: epoch.addingTimeInterval(600), stateDir: labDir)
        // The topology's real path depends on the checkout; the example shows a user's.
        tb.lab.topology.path = "/home/alice/nestlab/topologies/\(name).yaml"
        return tb
    }
}
