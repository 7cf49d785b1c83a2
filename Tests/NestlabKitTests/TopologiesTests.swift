import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

/// The shipped topologies: they validate, and `plan --offline --render` renders them.
@Suite("shipped topologies")
struct TopologiesTests {
    typealias S = HandoffTestSupport

    static var files: [String] { S.shippedTopologies.map(\.lastPathComponent) }

    @Test("the paper's four topologies and the CI labs are shipped")
    func shipped() {
        #expect(
            Self.files == [
                "baremetal.yaml", "ci-cluster.yaml", "ci-two-hosts.yaml", "ci.yaml", "nested-default.yaml",
                "nested-mitigated.yaml", "single-host.yaml",
            ])
    }

    @Test("every topology validates without errors or warnings", arguments: TopologiesTests.files)
    func validates(_ file: String) throws {
        let path = S.topologies.appendingPathComponent(file).path
        let report = ValidateCommand.run(file: path, environment: ["HOME": "/root"])
        #expect(!report.hasErrors, "\(report.diagnostics.map(\.description))")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics.map(\.description))")

        let bin = try #require(S.nestlabBinary, "build nestlab first (swift build)")
        let r = try S.run([bin.path, "validate", path], environment: ["HOME": "/root", "PATH": "/usr/bin:/bin"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(": lab '\(file.replacingOccurrences(of: ".yaml", with: ""))' is valid"))
    }

    @Test(
        "every paper topology opens with what it reproduces and what hardware it needs",
        arguments: HandoffTestSupport.paperTopologies)
    func header(_ name: String) throws {
        let text = try String(contentsOf: S.topologies.appendingPathComponent("\(name).yaml"), encoding: .utf8)
        let header = text.split(separator: "\n").prefix { $0.hasPrefix("#") }.joined(separator: "\n")
        #expect(header.contains("A Tug-of-War: Performance vs Security"))
        #expect(header.contains("All Things Open 2025"))
        #expect(header.contains("Hardware:"))
        for word in ["runc", "Kata", "urunc", "KubeVirt", "iperf3", "redis-benchmark", "stress-ng", "pgbench", "fio"] {
            #expect(header.contains(word), "\(name).yaml's header does not mention \(word)")
        }
    }

    @Test(
        "all four runtimes, pinned versions, and a hand-off in every paper topology",
        arguments: HandoffTestSupport.paperTopologies)
    func clusters(_ name: String) throws {
        let (t, _) = try TopologyParser(environment: [:]).load(
            path: S.topologies.appendingPathComponent("\(name).yaml").path)
        let c = try #require(t.clusters.first)
        #expect(t.clusters.count == 1)
        #expect(c.runtimes.map(\.name) == ["runc", "kata", "urunc", "kubevirt"])
        #expect(c.kubernetes == "1.33.4")
        #expect(c.containerd == "2.1.4")
        for rt in c.runtimes {
            if case .kubevirt(let k) = rt { #expect(k.emulation == .off) }
        }
        #expect(t.handoff?.command.first == "./bench/run")
        #expect(t.handoff?.workdir == nil)
        for img in t.images {
            guard case .url(let url, nil, let sums?) = img.source else {
                Issue.record("image \(img.name) of \(name) is not a URL with a checksums file")
                continue
            }
            #expect(url == "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img")
            #expect(sums == "https://cloud-images.ubuntu.com/noble/current/SHA256SUMS")
        }
    }

    @Test("nested-default differs from paper-default by host-passthrough and nested only")
    func nestedDefaultProfile() throws {
        let (t, lab) = try S.resolvedLab("nested-default")
        var expected = ResolvedProfile(name: "default-nestable")
        expected.cpuMode = .hostPassthrough
        expected.nested = true
        #expect(try ProfileResolver(topology: t).resolve("default-nestable").get() == expected)
        #expect(lab.machines.allSatisfy { $0.profile == expected && $0.vcpuPins.isEmpty && $0.emulatorPin == nil })

        let (tm, labm) = try S.resolvedLab("nested-mitigated")
        #expect(labm.machines.map(\.profile.name) == ["paper-mitigated", "paper-mitigated", "paper-mitigated"])
        // Same machines, placement and addresses in both: only the tuning differs.
        #expect(
            t.machines.map { [$0.name, $0.host, "\($0.vcpus)", "\($0.memory)", "\($0.disk)"] }
                == tm.machines.map { [$0.name, $0.host, "\($0.vcpus)", "\($0.memory)", "\($0.disk)"] })
        #expect(lab.machines.map(\.primaryAddress) == labm.machines.map(\.primaryAddress))
    }

    /// Runs `nestlab plan FILE --offline --render DIR` with a private state and cache.
    static func plan(_ file: URL, render: URL, home: URL) throws -> S.Output {
        let bin = try #require(S.nestlabBinary, "build nestlab first (swift build)")
        return try S.run(
            [bin.path, "plan", file.path, "--offline", "--render", render.path],
            environment: [
                "HOME": home.path, "PATH": "/usr/bin:/bin",
                "NESTLAB_STATE_DIR": home.appendingPathComponent("state").path,
                "XDG_CACHE_HOME": home.appendingPathComponent("cache").path,
            ])
    }

    /// A copy of a topology whose downloaded images are replaced by a local stand-in file.
    ///
    /// `plan` hashes every base image to name its volume, and a URL image is hashed only
    /// once it is in the artifact cache (`nestlab cache fetch`), which needs the internet.
    static func withLocalImages(_ name: String, in dir: URL) throws -> URL {
        let stand = dir.appendingPathComponent("stand-in.qcow2")
        try Data(repeating: 0x51, count: 4096).write(to: stand)
        var text = try String(contentsOf: S.topologies.appendingPathComponent("\(name).yaml"), encoding: .utf8)
        let url =
            "    url: https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img\n"
            + "    checksums: https://cloud-images.ubuntu.com/noble/current/SHA256SUMS\n"
        text = text.replacingOccurrences(of: url, with: "    file: \(stand.path)\n")
        let out = dir.appendingPathComponent("\(name).yaml")
        try Data(text.utf8).write(to: out)
        return out
    }

    @Test(
        "plan --offline --render renders every machine of every paper topology, and libvirt accepts the XML",
        arguments: HandoffTestSupport.paperTopologies)
    func render(_ name: String) throws {
        let dir = try S.temporaryDirectory("plan-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, lab) = try S.resolvedLab(name)

        // As shipped: it plans, or stops only because the image is not downloaded yet.
        let shipped = try Self.plan(
            S.topologies.appendingPathComponent("\(name).yaml"), render: dir.appendingPathComponent("as-shipped"),
            home: dir)
        if shipped.status != 0 {
            #expect(
                shipped.stderr.contains(
                    "image 'ubuntu-24.04' (https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img) is not in the cache yet"
                ),
                "\(shipped.stderr)")
        }

        let file = try Self.withLocalImages(name, in: dir)
        let out = dir.appendingPathComponent("render")
        let r = try Self.plan(file, render: out, home: dir)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("lab \(name) (offline"))
        let rendered = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !$0.hasSuffix(".xml") }
            .sorted()
        #expect(rendered == lab.machines.map(\.name).sorted())
        for m in lab.machines {
            let mdir = out.appendingPathComponent(m.name)
            for f in ["domain.xml", "overlay.xml", "user-data", "meta-data", "network-config"] {
                #expect(FileManager.default.fileExists(atPath: mdir.appendingPathComponent(f).path), "\(m.name)/\(f)")
            }
            if S.has("virt-xml-validate") {
                let v = try S.run(["virt-xml-validate", mdir.appendingPathComponent("domain.xml").path, "domain"])
                #expect(v.status == 0, "\(m.name): \(v.stdout)\(v.stderr)")
            }
        }
    }

    @Test("the rendered domains carry each topology's tuning")
    func tuning() throws {
        let dir = try S.temporaryDirectory("tuning")
        defer { try? FileManager.default.removeItem(at: dir) }
        func domain(_ name: String, _ machine: String) throws -> String {
            let out = dir.appendingPathComponent("render-\(name)")
            let r = try Self.plan(try Self.withLocalImages(name, in: dir), render: out, home: dir)
            try #require(r.status == 0, "\(r.stderr)")
            return try String(contentsOf: out.appendingPathComponent("\(machine)/domain.xml"), encoding: .utf8)
        }

        let plain = try domain("nested-default", "worker1")
        #expect(
            plain.contains(
                "<cpu mode='host-passthrough' check='none' migratable='off'>\n    <feature policy='require' name='vmx'/>"
            ))
        #expect(!plain.contains("<cputune>"))
        #expect(!plain.contains("<hugepages>"))
        #expect(!plain.contains("<numatune>"))

        let tuned = try domain("nested-mitigated", "worker1")
        #expect(tuned.contains("<vcpupin vcpu='0' cpuset='2'/>"))
        #expect(tuned.contains("<vcpupin vcpu='11' cpuset='13'/>"))
        #expect(tuned.contains("<emulatorpin cpuset='0-1'/>"))
        #expect(tuned.contains("<page size='1048576' unit='KiB'/>"))
        #expect(tuned.contains("<memory mode='strict' nodeset='0'/>"))
        #expect(tuned.contains("<feature policy='require' name='vmx'/>"))

        let desk = try domain("single-host", "worker-1")
        #expect(desk.contains("<vcpupin vcpu='0' cpuset='10'/>"))
        #expect(desk.contains("<vcpupin vcpu='5' cpuset='15'/>"))
        #expect(desk.contains("<page size='2048' unit='KiB'/>"))
    }

    @Test(
        "ci.yaml still plans with the local test image",
        .enabled(
            if: FileManager.default.fileExists(
                atPath: (ProcessInfo.processInfo.environment["NESTLAB_TEST_IMAGE_DIR"] ?? NSHomeDirectory()
                    + "/.cache/nestlab/test-image")
                    + "/debian12.qcow2")))
    func ci() throws {
        let dir = try S.temporaryDirectory("plan-ci")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = try #require(S.nestlabBinary)
        var env = ProcessInfo.processInfo.environment
        env["NESTLAB_STATE_DIR"] = dir.appendingPathComponent("state").path
        let r = try S.run(
            [
                bin.path, "plan", S.topologies.appendingPathComponent("ci.yaml").path, "--offline", "--render",
                dir.appendingPathComponent("render").path,
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("render/vm-1/domain.xml").path))
    }
}
