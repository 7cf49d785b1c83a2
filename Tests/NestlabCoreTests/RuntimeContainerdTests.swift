import Foundation
import NestlabTestSupport
import Spawn
import Testing

@testable import NestlabCore

/// Every leaf of a rendered document as (dotted path, JSON-comparable value).
func leaves(_ document: TOMLDocument) -> [(path: [String], value: Any)] {
    func json(_ value: TOMLValue) -> Any {
        switch value {
        case .string(let s): return s
        case .integer(let i): return i
        case .boolean(let b): return b
        case .array(let items): return items.map(json)
        }
    }
    var out: [(path: [String], value: Any)] = document.root.map { ([$0.key], json($0.value)) }
    for table in document.tables {
        for entry in table.entries { out.append((table.path + [entry.key], json(entry.value))) }
    }
    return out
}

func lookup(_ object: [String: Any], _ path: [String]) -> Any? {
    var current: Any = object
    for key in path {
        guard let dict = current as? [String: Any], let next = dict[key] else { return nil }
        current = next
    }
    return current
}

func sameJSON(_ a: Any, _ b: Any) -> Bool {
    switch (a, b) {
    case (let x as String, let y as String): return x == y
    case (let x as Bool, let y as Bool): return x == y
    case (let x as NSNumber, let y as NSNumber): return x == y
    case (let x as [Any], let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy(sameJSON)
    default: return false
    }
}

@Suite("containerd config")
struct RuntimeContainerdTests {
    /// Runs Debian's containerd on a config and returns the keys it lost in `config dump`.
    func keysLostByContainerd(_ config: ContainerdConfig) throws -> [String] {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.toml")
        try Data(config.render().utf8).write(to: file)
        let dump = try runProcess(["/usr/bin/containerd", "--config", file.path, "config", "dump"])
        #expect(dump.status == 0, "containerd config dump failed: \(dump.stderr)")
        let dumpFile = dir.appendingPathComponent("dump.toml")
        try Data(dump.stdout.utf8).write(to: dumpFile)
        let parsed = try parseTOML(dumpFile.path)
        var lost: [String] = []
        for leaf in leaves(config.document) {
            guard let value = lookup(parsed, leaf.path), sameJSON(value, leaf.value) else {
                lost.append(leaf.path.joined(separator: "."))
                continue
            }
        }
        return lost
    }

    @Test func version2ForContainerd16IsUnderstoodKeyForKey() throws {
        // Everything Debian 12's containerd can run: runc, crun, kata-qemu, kata-clh.
        var runtimes = KubeSample.allRuntimes
        runtimes.urunc = nil
        runtimes.kata?.hypervisors = [.qemu, .cloudHypervisor]
        let config = try ContainerdConfig(
            version: .debian12, sandboxImage: "registry.k8s.io/pause:3.10", runtimes: runtimes)
        #expect(config.handlers.map(\.name) == ["runc", "crun", "kata-qemu", "kata-clh"])
        #expect(try keysLostByContainerd(config) == [])
    }

    @Test func version2WithEveryHandlerIsAcceptedByContainerd() throws {
        // Rendered for containerd 1.7 (Ubuntu): every handler plus the devmapper pool.
        let config = try ContainerdConfig(
            version: .ubuntu, sandboxImage: "registry.k8s.io/pause:3.10",
            runtimes: KubeSample.allRuntimes)
        #expect(config.handlers.map(\.name) == ["runc", "crun", "kata-qemu", "kata-clh", "kata-fc", "urunc"])
        try expectGolden(config.render(), "runtimes/containerd-v2-all.toml")
        // Debian's 1.6 accepts the file and keeps every key but the per-runtime snapshotter
        // (a 1.7 addition), which is why nestlab refuses urunc and kata-fc on containerd 1.6.
        #expect(
            try keysLostByContainerd(config) == [
                "plugins.io.containerd.grpc.v1.cri.containerd.runtimes.kata-fc.snapshotter",
                "plugins.io.containerd.grpc.v1.cri.containerd.runtimes.urunc.snapshotter",
            ])
    }

    @Test func containerd16RefusesPerRuntimeSnapshotters() throws {
        let error = #expect(throws: KubeError.self) {
            try ContainerdConfig(version: .debian12, sandboxImage: "p", runtimes: KubeSample.allRuntimes)
        }
        #expect(error?.description.contains("kata-fc, urunc need a per-runtime snapshotter") == true)
    }

    @Test func version3Structure() throws {
        // containerd 1.6 cannot check a version-3 file (it predates the format), so this
        // parses the file with an independent TOML parser and checks the plugin layout and
        // values; NestlabKitTests' ContainerdSchemaTests checks every key against containerd
        // v2.1.4's own config types.
        let config = try ContainerdConfig(
            version: ContainerdVersion(2, 1), sandboxImage: "registry.k8s.io/pause:3.10",
            runtimes: KubeSample.allRuntimes)
        try expectGolden(config.render(), "runtimes/containerd-v3-all.toml")
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.toml")
        try Data(config.render().utf8).write(to: file)
        let parsed = try parseTOML(file.path)
        #expect(parsed["version"] as? Int == 3)
        let runtime = ["plugins", "io.containerd.cri.v1.runtime"]
        #expect(
            lookup(parsed, ["plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox"]) as? String
                == "registry.k8s.io/pause:3.10")
        #expect(lookup(parsed, runtime + ["cni", "bin_dirs"]) as? [String] == ["/opt/cni/bin"])
        #expect(lookup(parsed, runtime + ["containerd", "default_runtime_name"]) as? String == "runc")
        let handlers = try #require(lookup(parsed, runtime + ["containerd", "runtimes"]) as? [String: Any])
        #expect(Set(handlers.keys) == ["runc", "crun", "kata-qemu", "kata-clh", "kata-fc", "urunc"])
        #expect(
            lookup(parsed, runtime + ["containerd", "runtimes", "runc", "options", "SystemdCgroup"]) as? Bool == true)
        #expect(
            lookup(parsed, runtime + ["containerd", "runtimes", "crun", "options", "BinaryName"]) as? String
                == "/usr/bin/crun")
        #expect(
            lookup(parsed, runtime + ["containerd", "runtimes", "kata-qemu", "runtime_type"]) as? String
                == "io.containerd.kata-qemu.v2")
        #expect(
            lookup(parsed, runtime + ["containerd", "runtimes", "kata-qemu", "options", "ConfigPath"]) as? String
                == "/etc/kata-containers/nestlab/configuration-qemu.toml")
        #expect(lookup(parsed, runtime + ["containerd", "runtimes", "urunc", "snapshotter"]) as? String == "devmapper")
        #expect(
            lookup(parsed, runtime + ["containerd", "runtimes", "urunc", "pod_annotations"]) as? [String]
                == ["com.urunc.unikernel.*"])
        #expect(
            lookup(parsed, ["plugins", "io.containerd.snapshotter.v1.devmapper", "pool_name"]) as? String
                == "containerd-pool")
        #expect(lookup(parsed, ["plugins", "io.containerd.snapshotter.v1.devmapper", "fs_type"]) as? String == "ext2")
        // Every rendered leaf reads back with its value.
        for leaf in leaves(config.document) {
            let value = lookup(parsed, leaf.path)
            #expect(value.map { sameJSON($0, leaf.value) } == true, "\(leaf.path.joined(separator: "."))")
        }
        // containerd 2.0 still takes the single bin_dir.
        let v20 = try ContainerdConfig(version: ContainerdVersion(2, 0), sandboxImage: "p", runtimes: RuntimeSet())
        #expect(v20.render().contains("[plugins.\"io.containerd.cri.v1.runtime\".cni]\nbin_dir = \"/opt/cni/bin\"\n"))
    }

    @Test func containerd16CannotCheckVersion3() throws {
        // Why version 3 is checked against containerd 2.1.4's types (ContainerdSchemaTests) and not
        // by Debian's 1.6: that "accepts" a version-3 file (exit 0) but drops every key in it and
        // reports its own version 2 defaults.
        let config = try ContainerdConfig(
            version: ContainerdVersion(2, 1), sandboxImage: "registry.k8s.io/pause:3.10",
            runtimes: KubeSample.allRuntimes)
        let criKeys = leaves(config.document).map { $0.path.joined(separator: ".") }
            .filter { $0.hasPrefix("plugins.io.containerd.cri.v1.") }
        let lost = try keysLostByContainerd(config)
        #expect(criKeys.count > 20)
        #expect(criKeys.allSatisfy(lost.contains), "a CRI key survived: \(Set(criKeys).subtracting(lost))")
        #expect(lost.contains("version"))
    }

    @Test func tomlWriterEscapesEveryStringThatNeedsIt() throws {
        let tricky = [
            "plain", "quote \" inside", "back\\slash", "new\nline", "tab\there", "bell\u{07}", "del\u{7F}",
            "unicode é 😀", "'single'", "[not.a.table]", "= sign",
        ]
        var document = TOMLDocument(root: [("version", .integer(2))])
        document.tables.append(
            TOMLTable(
                ["plugins", "io.containerd.grpc.v1.cri", "bare_key"],
                tricky.enumerated().map { ("k\($0.offset)", .string($0.element)) }
                    + [("list", .array(tricky.map { .string($0) }))]))
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("t.toml")
        try Data(TOMLWriter.render(document).utf8).write(to: file)
        let parsed = try parseTOML(file.path)
        let table = try #require(
            lookup(parsed, ["plugins", "io.containerd.grpc.v1.cri", "bare_key"]) as? [String: Any])
        for (index, value) in tricky.enumerated() { #expect(table["k\(index)"] as? String == value) }
        #expect(table["list"] as? [String] == tricky)
        #expect(TOMLWriter.key("io.containerd.grpc.v1.cri") == "\"io.containerd.grpc.v1.cri\"")
        #expect(TOMLWriter.key("kata-qemu") == "kata-qemu")
    }
}

@Suite("containerd daemon", .serialized)
struct RuntimeContainerdDaemonTests {
    @Test func debianContainerdStartsWithTheConfigAndLoadsCRI() throws {
        // A real containerd 1.6 daemon on a private root, state and socket, with nestlab's
        // config for Debian 12 (runc, crun, kata-qemu, kata-clh): the CRI plugin must load.
        var runtimes = KubeSample.allRuntimes
        runtimes.urunc = nil
        runtimes.kata?.hypervisors = [.qemu, .cloudHypervisor]
        let config = try ContainerdConfig(
            version: .debian12, sandboxImage: "registry.k8s.io/pause:3.10", runtimes: runtimes)
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.toml")
        try Data(config.render().utf8).write(to: file)
        let socket = dir.appendingPathComponent("c.sock").path
        let log = dir.appendingPathComponent("containerd.log")
        let daemon = try SpawnedProcess.start(
            [
                "/usr/bin/containerd", "--config", file.path, "--root", dir.appendingPathComponent("root").path,
                "--state", dir.appendingPathComponent("state").path, "--address", socket,
            ],
            stdout: .file(log.path), stderr: .stdout)
        defer {
            daemon.signal(SIGKILL)
            daemon.wait()
        }
        var plugins = ""
        for _ in 0..<40 {
            let result = try runProcess(["/usr/bin/ctr", "--address", socket, "plugins", "ls"])
            if result.status == 0 {
                plugins = result.stdout
                break
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let text = try String(contentsOf: log, encoding: .utf8)
        let cri = plugins.split(separator: "\n").first { $0.hasPrefix("io.containerd.grpc.v1") && $0.contains(" cri ") }
        let status = cri?.split(separator: " ", omittingEmptySubsequences: true).last
        #expect(status == "ok", "CRI plugin line: \(cri.map(String.init) ?? "missing")\n\(text)")
        #expect(!text.contains("failed to load plugin io.containerd.grpc.v1.cri"))
    }
}
