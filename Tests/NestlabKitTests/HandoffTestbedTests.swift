import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

@Suite("testbed.json")
struct HandoffTestbedTests {
    typealias S = HandoffTestSupport

    /// Validates a document against docs/testbed.schema.json with the real `jsonschema` CLI.
    static func validate(_ data: Data) throws -> S.Output {
        let dir = try S.temporaryDirectory("schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("testbed.json")
        try data.write(to: file)
        return try S.run([
            "python3", "-W", "ignore::DeprecationWarning", "-m", "jsonschema", "-i", file.path, S.schema.path,
        ])
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(
        "every shipped topology's testbed.json matches the documented schema",
        .enabled(if: HandoffTestSupport.python(has: "jsonschema")), arguments: HandoffTestSupport.paperTopologies)
    func matchesSchema(_ name: String) throws {
        let data = try S.testbed(name).jsonData()
        let r = try Self.validate(data)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test(
        "the schema check rejects what the documentation forbids",
        .enabled(if: HandoffTestSupport.python(has: "jsonschema")))
    func schemaRejects() throws {
        let good = try Self.object(S.testbed("nested-mitigated").jsonData())
        func mutated(_ change: (inout [String: Any]) -> Void) throws -> Data {
            var o = good
            change(&o)
            return try JSONSerialization.data(withJSONObject: o)
        }
        let cases: [(String, Data)] = [
            (
                "lock left out",
                try mutated { o in
                    var lab = o["lab"] as! [String: Any]
                    lab.removeValue(forKey: "lock")
                    o["lab"] = lab
                }
            ),
            (
                "lock as a string",
                try mutated { o in
                    var lab = o["lab"] as! [String: Any]
                    lab["lock"] = "nestlab.lock"
                    o["lab"] = lab
                }
            ),
            ("schemaVersion 2", try mutated { $0["schemaVersion"] = 2 }),
            ("an unknown key", try mutated { $0["extra"] = true }),
            (
                "a bad accelerator",
                try mutated { o in
                    var ms = o["machines"] as! [[String: Any]]
                    ms[0]["accelerator"] = "hvf"
                    o["machines"] = ms
                }
            ),
            (
                "a VM runtime with a runtimeClassName",
                try mutated { o in
                    var cs = o["clusters"] as! [[String: Any]]
                    var rcs = cs[0]["runtimeClasses"] as! [[String: Any]]
                    let i = try! #require(rcs.firstIndex { $0["kind"] as? String == "vm" })
                    rcs[i]["runtimeClassName"] = "kubevirt"
                    cs[0]["runtimeClasses"] = rcs
                    o["clusters"] = cs
                }
            ),
        ]
        for (what, data) in cases {
            let r = try Self.validate(data)
            #expect(r.status != 0, "the schema accepted \(what)")
        }
    }

    @Test("docs/testbed.example.json is what the builder writes for single-host")
    func example() throws {
        let data = try S.testbed("single-host").jsonData()
        if ProcessInfo.processInfo.environment["NESTLAB_UPDATE_GOLDEN"] == "1" { try data.write(to: S.example) }
        let golden = try Data(contentsOf: S.example)
        #expect(
            String(decoding: data, as: UTF8.self) == String(decoding: golden, as: UTF8.self),
            "regenerate with NESTLAB_UPDATE_GOLDEN=1 swift test --filter HandoffTestbedTests")
    }

    @Test("keys are sorted, unknowns are null, times are RFC 3339 UTC")
    func encoding() throws {
        let text = String(decoding: try S.testbed("nested-mitigated").jsonData(), as: UTF8.self)
        let topKeys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(
            topKeys == ["clusters", "generatedAt", "generator", "hosts", "lab", "machines", "phases", "schemaVersion"])
        #expect(text.contains("\"lock\" : null"))
        #expect(text.contains("\"generatedAt\" : \"2026-11-18T11:16:40.000Z\""))
        #expect(text.contains("\"end\" : \"2026-11-18T11:07:22.500Z\""))
        #expect(text.hasSuffix("}\n"))
    }

    @Test("what the topology decides and what the reports say both land in the record")
    func content() throws {
        let tb = try S.testbed("nested-mitigated")
        #expect(tb.schemaVersion == 1)
        #expect(tb.lab.name == "nested-mitigated")
        let sum = try S.run(["sha256sum", S.topologies.appendingPathComponent("nested-mitigated.yaml").path]).stdout
        #expect(tb.lab.topology.sha256 == String(sum.prefix(64)))
        #expect(tb.hosts.map(\.name) == ["node1", "node2", "node3"])
        #expect(tb.hosts[0].numa == [Testbed.NUMANode(node: 0, cpus: Array(0..<16))])

        let w1 = try #require(tb.machines.first { $0.name == "worker1" })
        #expect(w1.host == "node2")
        #expect(w1.cluster == "nested")
        #expect(w1.pinning.count == 12)
        #expect(w1.pinning[0] == Testbed.VCPUPin(vcpu: 0, cpus: [2]))
        #expect(w1.pinning[11] == Testbed.VCPUPin(vcpu: 11, cpus: [13]))
        #expect(w1.emulatorPin == [0, 1])
        #expect(w1.memoryMiB == 48 * 1024)
        #expect(w1.hugepageSize == "1G")
        #expect(w1.nestedVirtualization)
        #expect(w1.cpuMode == "host-passthrough")
        #expect(w1.accelerator == "kvm")
        #expect(w1.addresses.map(\.address) == ["192.168.50.11"])
        #expect(w1.domain == "nested-mitigated-worker1")

        let c = try #require(tb.clusters.first)
        #expect(c.kubernetesVersion == "1.33.4")
        #expect(c.apiEndpoint == "https://192.168.50.10:6443")
        #expect(c.nodes.map(\.name) == ["cp", "worker1", "worker2"])
        #expect(c.nodes.map(\.role) == ["control-plane", "worker", "worker"])
        #expect(c.nodes.map(\.host) == ["node1", "node2", "node3"])
        #expect(c.cni == Testbed.CNI(name: "flannel", version: "v0.26.7"))
        #expect(
            c.kubelet
                == Testbed.Kubelet(
                    cpuManagerPolicy: "static", reservedCPUs: "0", topologyManagerPolicy: "single-numa-node"))
        #expect(c.runtimeClasses.map(\.name) == ["runc", "kata-qemu", "urunc", "kubevirt"])
        #expect(c.runtimeClasses.map(\.runtimeClassName) == [nil, "kata-qemu", "urunc", nil])
        let kata = c.runtimeClasses[1]
        #expect(kata.version == "3.20.0")
        #expect(kata.knobs["default_vcpus"] == .int(1))
        #expect(kata.knobs["default_memory"] == .int(2048))
        #expect(kata.knobs["shared_fs"] == .string("virtio-fs"))
        #expect(kata.overhead == Testbed.Overhead(cpu: "250m", memory: "160Mi"))
        #expect(c.runtimeClasses[0].version == "1.3.0")
        #expect(c.runtimeClasses[3].knobs == ["emulation": .string("off"), "useEmulation": .bool(false)])
    }

    @Test("bare-metal nodes are hosts, with their own names when reported")
    func baremetal() throws {
        let tb = try S.testbed("baremetal")
        #expect(tb.machines.isEmpty)
        let c = try #require(tb.clusters.first)
        #expect(c.nodes.map(\.kind) == ["baremetal", "baremetal", "baremetal"])
        #expect(c.nodes.map(\.name) == ["node1", "node2", "node3"])
        #expect(c.nodes.allSatisfy { $0.machine == nil })

        let (t, lab) = try S.resolvedLab("baremetal")
        let r = Testbed.ClusterReport(
            name: "metal", apiEndpoint: "https://10.0.0.1:6443", kubeconfig: "/k",
            nodeNames: ["host:node2": "rack1-b"], nodeReady: ["rack1-b": true])
        let named = try Testbed.build(
            topology: t, lab: lab, lock: nil, hosts: [], machines: [], clusters: [r], phases: [])
        #expect(named.clusters[0].nodes.map(\.name) == ["node1", "rack1-b", "node3"])
        #expect(named.clusters[0].nodes.map(\.ready) == [nil, true, nil])
        #expect(named.hosts.map(\.kernel) == [nil, nil, nil])
    }

    @Test("encoding and decoding give back the same record")
    func roundTrip() throws {
        let tb = try S.testbed("nested-default")
        #expect(try Testbed.decode(tb.jsonData()) == tb)
        var lock = tb
        lock.lab.lock = Testbed.FileDigest(path: "/x/nested-default.lock", sha256: String(repeating: "ab", count: 32))
        #expect(try Testbed.decode(lock.jsonData()) == lock)
    }

    @Test("a record of another schema version is refused")
    func otherVersion() throws {
        var o = try Self.object(S.testbed("single-host").jsonData())
        o["schemaVersion"] = 2
        #expect(throws: TestbedError.unsupportedSchemaVersion(2)) {
            try Testbed.decode(JSONSerialization.data(withJSONObject: o))
        }
    }

    @Test("write creates the file 0600 with the encoded bytes")
    func write() throws {
        let dir = try S.temporaryDirectory("testbed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tb = try S.testbed("single-host")
        let url = dir.appendingPathComponent("testbed.json")
        try tb.write(to: url)
        #expect(try Data(contentsOf: url) == tb.jsonData())
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("reports that do not fit the lab are errors with what would fit")
    func badReports() throws {
        let (t, lab) = try S.resolvedLab("single-host")
        let cluster = Testbed.ClusterReport(name: "desk", apiEndpoint: "https://10.77.0.10:6443", kubeconfig: "/k")
        let all = lab.machines.map {
            Testbed.MachineReport(name: $0.name, vcpuPins: $0.vcpuPins, state: "running", ready: true)
        }

        #expect(throws: TestbedError.missingMachineReport("worker-1")) {
            try Testbed.build(
                topology: t, lab: lab, lock: nil, hosts: [], machines: Array(all.prefix(2)), clusters: [cluster],
                phases: [])
        }
        #expect(throws: TestbedError.unknownMachine("worker-2", known: ["cp", "worker-0", "worker-1"])) {
            try Testbed.build(
                topology: t, lab: lab, lock: nil, hosts: [],
                machines: all + [Testbed.MachineReport(name: "worker-2", vcpuPins: [], state: "running", ready: true)],
                clusters: [cluster], phases: [])
        }
        #expect(throws: TestbedError.missingClusterReport("desk")) {
            try Testbed.build(topology: t, lab: lab, lock: nil, hosts: [], machines: all, clusters: [], phases: [])
        }
        #expect(throws: TestbedError.unknownHost("node9", known: ["local"])) {
            try Testbed.build(
                topology: t, lab: lab, lock: nil, hosts: [Testbed.HostReport(name: "node9")], machines: all,
                clusters: [cluster], phases: [])
        }
        var renamed = cluster
        renamed.nodeNames = ["worker-7": "w7"]
        #expect(
            throws: TestbedError.unknownNode(cluster: "desk", node: "worker-7", known: ["cp", "worker-0", "worker-1"])
        ) {
            try Testbed.build(
                topology: t, lab: lab, lock: nil, hosts: [], machines: all, clusters: [renamed], phases: [])
        }
        let now = Date()
        #expect(throws: TestbedError.phaseEndsBeforeStart("boot")) {
            try Testbed.build(
                topology: t, lab: lab, lock: nil, hosts: [], machines: all, clusters: [cluster],
                phases: [Testbed.Phase(name: "boot", start: now, end: now.addingTimeInterval(-1))])
        }
        #expect(
            TestbedError.missingMachineReport("worker-1").description
                == "no report for machine 'worker-1': testbed.json needs its applied pinning and state from libvirt")
    }

    @Test("the pinning recorded is the one reported, not the planned one")
    func appliedPinning() throws {
        let (t, lab) = try S.resolvedLab("single-host")
        let cluster = Testbed.ClusterReport(name: "desk", apiEndpoint: "https://10.77.0.10:6443", kubeconfig: "/k")
        let reports = lab.machines.map { m in
            Testbed.MachineReport(
                name: m.name, vcpuPins: m.name == "cp" ? [CPUSet([7]), CPUSet([3, 4])] : [],
                emulatorPin: m.name == "cp" ? CPUSet([0]) : nil, state: m.name == "cp" ? "running" : "shut off",
                ready: m.name == "cp", cpuMode: m.name == "cp" ? "host-model" : nil,
                addresses: m.name == "cp" ? ["lab": "10.77.0.99"] : nil)
        }
        let tb = try Testbed.build(
            topology: t, lab: lab, lock: nil, hosts: [], machines: reports, clusters: [cluster], phases: [])
        let cp = try #require(tb.machines.first { $0.name == "cp" })
        #expect(cp.pinning == [Testbed.VCPUPin(vcpu: 0, cpus: [7]), Testbed.VCPUPin(vcpu: 1, cpus: [3, 4])])
        #expect(cp.emulatorPin == [0])
        #expect(cp.cpuMode == "host-model")
        #expect(cp.addresses.map(\.address) == ["10.77.0.99"])
        let w0 = try #require(tb.machines.first { $0.name == "worker-0" })
        #expect(w0.pinning.isEmpty)
        #expect(w0.state == "shut off")
        #expect(!w0.ready)
        #expect(w0.addresses.map(\.address) == ["10.77.0.11"])
    }

    @Test("FileDigest.of hashes the file's bytes")
    func fileDigest() throws {
        let dir = try S.temporaryDirectory("digest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("nestlab.lock")
        try Data("abc".utf8).write(to: f)
        let d = try Testbed.FileDigest.of(path: f.path)
        #expect(d.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(d.path == f.standardizedFileURL.path)
        #expect(throws: TestbedError.self) { try Testbed.FileDigest.of(path: dir.appendingPathComponent("none").path) }
    }
}
