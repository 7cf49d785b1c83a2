import Foundation
import NestlabCore
import NestlabTestSupport
import Testing

@testable import NestlabKit

/// containerd's own config types at the pinned 2.x release (Tests/Fixtures/upstream/containerd-config-v3.json,
/// made by Tests/Scripts/derive-containerd-fixture): the server's `Config`, the `Config` type of every
/// plugin nestlab configures (by plugin URI), and the options type a CRI runtime's `options`
/// table is decoded into (chosen by the runtime's `runtime_type`).
struct ContainerdFixture {
    let root: [String: Any]
    /// Type -> TOML key -> field spec (`kind`, `ref`, `values`, `items`, `enum`, `decodedAs`, `go`).
    let types: [String: [String: [String: Any]]]
    /// Plugin URI -> its config type.
    let plugins: [String: String]
    let rootType: String

    static let path = HandoffTestSupport.root.appendingPathComponent(
        "Tests/Fixtures/upstream/containerd-config-v3.json")

    init() throws {
        root = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.path)) as? [String: Any] ?? [:]
        types = (root["types"] as? [String: [String: Any]] ?? [:]).mapValues {
            $0["fields"] as? [String: [String: Any]] ?? [:]
        }
        plugins = (root["plugins"] as? [String: [String: Any]] ?? [:]).compactMapValues { $0["type"] as? String }
        rootType = root["root"] as? String ?? ""
    }

    var origin: [String: Any] { root["origin"] as? [String: Any] ?? [:] }
    var kata: [String: Any] { root["kata"] as? [String: Any] ?? [:] }

    /// What one walk over a parsed config found.
    struct Report {
        /// `dotted.path: what is wrong`.
        var problems: [String] = []
        /// Every key whose value is not a table (what nestlab's TOMLDocument holds as entries).
        var keys: [String] = []
        /// Keys whose Go field upstream's comment marks DEPRECATED.
        var deprecated: [String] = []
    }

    /// Walks every key of a config `parseTOML` read, from the server's `Config` down.
    func check(_ config: [String: Any]) -> Report {
        var report = Report()
        check(table: config, type: rootType, path: "", &report)
        return report
    }

    private func check(table: [String: Any], type: String, path: String, _ r: inout Report) {
        guard let fields = types[type] else {
            r.problems.append("\(path): the fixture has no type \(type)")
            return
        }
        for (key, value) in table.sorted(by: { $0.key < $1.key }) {
            let at = path.isEmpty ? key : "\(path).\(key)"
            if type == rootType && key == "plugins" {
                checkPlugins(value, path: at, &r)
                continue
            }
            guard let spec = fields[key] else {
                r.problems.append("\(at): \(type) has no key '\(key)'")
                continue
            }
            if TOMLKind.of(value) != .table { r.keys.append(at) }
            if spec["deprecated"] as? Bool == true { r.deprecated.append(at) }
            check(value, spec: spec, siblings: table, path: at, &r)
        }
    }

    /// `[plugins."<URI>"]`: each table is decoded into the config type of the plugin registered as URI.
    private func checkPlugins(_ value: Any, path: String, _ r: inout Report) {
        guard let tables = value as? [String: Any] else {
            r.problems.append("\(path): expected a table, the file has \(TOMLKind.of(value).withArticle)")
            return
        }
        for (uri, table) in tables.sorted(by: { $0.key < $1.key }) {
            let at = "\(path).\(uri)"
            guard let type = plugins[uri] else {
                let known = plugins.keys.sorted().joined(separator: ", ")
                r.problems.append("\(at): no plugin \(uri) in the fixture (it has \(known))")
                continue
            }
            guard let t = table as? [String: Any] else {
                r.problems.append("\(at): expected a table, the file has \(TOMLKind.of(table).withArticle)")
                continue
            }
            check(table: t, type: type, path: at, &r)
        }
    }

    static let scalarKinds: [String: TOMLKind] = [
        "string": .string, "bytes": .string, "bool": .boolean, "int": .integer, "float": .float,
    ]

    /// One value against its field spec; `siblings` is the table holding it (a runtime's
    /// `options` is decoded by its sibling `runtime_type`).
    private func check(_ value: Any, spec: [String: Any], siblings: [String: Any], path: String, _ r: inout Report) {
        let kind = spec["kind"] as? String ?? "?"
        let actual = TOMLKind.of(value)
        let go = spec["go"] as? String ?? kind
        func wrong(_ want: String) {
            r.problems.append("\(path): \(go) wants \(want), the file has \(actual.withArticle)")
        }
        switch kind {
        case "struct":
            guard let t = value as? [String: Any] else { return wrong("a table") }
            check(table: t, type: spec["ref"] as? String ?? "?", path: path, &r)
        case "map":
            guard let t = value as? [String: Any] else { return wrong("a table") }
            if let decoded = spec["decodedAs"] as? [String: Any] {
                checkDecoded(t, decoded, siblings: siblings, path: path, &r)
                return
            }
            let values = spec["values"] as? [String: Any] ?? [:]
            for (key, item) in t.sorted(by: { $0.key < $1.key }) {
                if TOMLKind.of(item) != .table { r.keys.append("\(path).\(key)") }
                check(item, spec: values, siblings: t, path: "\(path).\(key)", &r)
            }
        case "list":
            guard let items = value as? [Any] else { return wrong("an array") }
            let itemSpec = spec["items"] as? [String: Any] ?? [:]
            for (i, item) in items.enumerated() {
                check(
                    item, spec: itemSpec.merging(["go": "\(go) item"]) { a, _ in a }, siblings: [:],
                    path: "\(path)[\(i)]", &r)
            }
        case "any":
            break
        default:
            guard let want = Self.scalarKinds[kind] else {
                return r.problems.append("\(path): \(go) is '\(kind)' in the fixture, which this test cannot check")
            }
            if actual != want { return wrong(want.withArticle) }
            if let allowed = spec["enum"] as? [String], let s = value as? String, !allowed.contains(s) {
                r.problems.append("\(path): '\(s)' is not one of \(allowed) (\(spec["enumFrom"] ?? ""))")
            }
        }
    }

    /// A runtime's `options`: containerd decodes it into the type its `runtime_type` selects.
    private func checkDecoded(
        _ table: [String: Any], _ decoded: [String: Any], siblings: [String: Any], path: String, _ r: inout Report
    ) {
        let by = decoded["by"] as? String ?? "?"
        let selector = siblings[by] as? String ?? ""
        let target = (decoded["byRuntimeType"] as? [String: Any])?[selector] ?? decoded["default"]
        guard let type = target as? String else {
            return r.problems.append(
                "\(path): \(by) '\(selector)' decodes it into \(target ?? "?"), outside the fixture")
        }
        check(table: table, type: type, path: path, &r)
    }
}

@Suite("containerd 2.x config (version 3) against containerd v2.1.4's own Go config types (fixture)")
struct ContainerdSchemaTests {
    static let golden = HandoffTestSupport.root.appendingPathComponent(
        "Tests/NestlabCoreTests/Fixtures/golden/runtimes/containerd-v3-all.toml")

    /// Parses a rendered config with the independent TOML parser and walks it.
    static func check(_ text: String, _ f: ContainerdFixture) throws -> (
        parsed: [String: Any], report: ContainerdFixture.Report
    ) {
        let dir = try HandoffTestSupport.temporaryDirectory("containerd-v3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.toml")
        try Data(text.utf8).write(to: file)
        let parsed = try parseTOML(file.path)
        return (parsed, f.check(parsed))
    }

    @Test("the fixture names its origin (containerd v2.1.4, its api module, Kata 3.20.0) and the topologies pin it")
    func fixtureOrigin() throws {
        let f = try ContainerdFixture()
        #expect(f.origin["repository"] as? String == "containerd/containerd")
        #expect((f.origin["commit"] as? String)?.range(of: "^[0-9a-f]{40}$", options: .regularExpression) != nil)
        let tag = try #require(f.origin["tag"] as? String)
        let api = try #require(f.root["apiModule"] as? [String: Any])
        #expect(api["module"] as? String == "github.com/containerd/containerd/api")
        #expect((api["sameAs"] as? [String: Any])?["tag"] as? String == "api/\(api["version"] as? String ?? "?")")
        #expect(f.root["configVersion"] as? Int == 3)
        #expect(
            Set(f.plugins.keys) == [
                "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.snapshotter.v1.devmapper",
            ])
        #expect(f.types["runcoptions.Options"]?["SystemdCgroup"]?["kind"] as? String == "bool")
        #expect(f.types["runtimeoptions.Options"]?["ConfigPath"]?["kind"] as? String == "string")
        #expect(f.kata["reads"] as? [String] == ["ConfigPath"])
        let kataTag = (f.kata["origin"] as? [String: Any])?["tag"] as? String
        // Every shipped topology pins the releases the fixture was derived from; a new pin needs a new fixture.
        var pinned = 0
        for (topology, c) in try ShippedClusters.all() {
            if let kata = c.spec.runtimes.kata { #expect(kata.version == kataTag, "\(topology)") }
            guard case .release(_, let tarball, _) = c.spec.containerd else { continue }
            #expect(tarball.url.contains("/download/\(tag)/"), "\(topology)/\(c.cluster.name): \(tarball.url)")
            pinned += 1
        }
        #expect(pinned >= 4)
    }

    /// Every version-3 config nestlab renders: every runtime combination for 2.1 and 2.0 (built
    /// from a shipped cluster's runtimes), with the document it was rendered from.
    static func renderedCombinations() throws -> [(name: String, config: ContainerdConfig)] {
        let base = try #require(
            try ShippedClusters.all().map(\.cluster.spec.runtimes).first { $0.kata != nil && $0.urunc != nil })
        let hypervisors = KataHypervisor.allCases
        let kataChoices: [[KataHypervisor]?] =
            [nil]
            + (1..<(1 << hypervisors.count)).map { mask in
                hypervisors.indices.filter { mask & (1 << $0) != 0 }.map { hypervisors[$0] }
            }
        var out: [(String, ContainerdConfig)] = []
        for version in [ContainerdVersion(2, 1), ContainerdVersion(2, 0)] {
            for crun in [false, true] {
                for kata in kataChoices {
                    for urunc in [false, true] {
                        var runtimes = base
                        runtimes.crun = crun
                        runtimes.kata?.hypervisors = kata ?? []
                        if kata == nil { runtimes.kata = nil }
                        if !urunc { runtimes.urunc = nil }
                        let name = "\(version) crun=\(crun) kata=\(kata?.map(\.rawValue) ?? []) urunc=\(urunc)"
                        out.append(
                            (
                                name,
                                try ContainerdConfig(
                                    version: version, sandboxImage: "registry.k8s.io/pause:3.10", runtimes: runtimes)
                            ))
                    }
                }
            }
        }
        return out
    }

    @Test(
        "every key of every version-3 config nestlab renders (golden, shipped topologies, every runtime combination) is a key of containerd v2.1.4's types, with its type"
    )
    func everyRenderedConfig() throws {
        let f = try ContainerdFixture()
        var seen: Set<String> = []
        func walk(_ name: String, _ text: String, entries: Int?, deprecated: [String] = []) throws {
            let (parsed, report) = try Self.check(text, f)
            #expect(parsed["version"] as? Int == f.root["configVersion"] as? Int, "\(name)")
            #expect(report.problems == [], "\(name)")
            #expect(report.deprecated == deprecated, "\(name)")
            if let entries { #expect(report.keys.count == entries, "\(name): walked \(report.keys)") }
            seen.formUnion(report.keys.map { $0.split(separator: ".").suffix(2).joined(separator: ".") })
        }
        try walk("golden containerd-v3-all.toml", String(contentsOf: Self.golden, encoding: .utf8), entries: nil)
        var shipped = 0
        for (topology, c) in try ShippedClusters.all() where c.spec.containerd.version.configVersion == 3 {
            for node in c.nodes {
                let file = try #require(node.bootstrap.file(at: NodePaths.containerdConfig), "\(topology)/\(node.name)")
                try walk("\(topology)/\(node.name)", file.text, entries: nil)
                shipped += 1
            }
        }
        #expect(shipped >= 4)
        let combinations = try Self.renderedCombinations()
        #expect(combinations.count == 64)
        for (name, config) in combinations {
            let d = config.document
            // containerd 2.0 reads only the single CNI bin_dir, which 2.1.4 keeps but marks DEPRECATED.
            let deprecated = config.version.usesCNIBinDirs ? [] : ["plugins.io.containerd.cri.v1.runtime.cni.bin_dir"]
            try walk(
                name, config.render(), entries: d.root.count + d.tables.reduce(0) { $0 + $1.entries.count },
                deprecated: deprecated)
        }
        // What nestlab sets, each checked at least once (the last two path elements).
        for key in [
            "options.SystemdCgroup", "options.BinaryName", "options.ConfigPath", "pinned_images.sandbox",
            "cni.bin_dirs", "cni.bin_dir", "devmapper.fs_type", "urunc.snapshotter", "kata-fc.snapshotter",
        ] {
            #expect(seen.contains(key), "\(key) never checked")
        }
    }

    @Test(
        "a misspelled key, a wrong type, a key under the wrong plugin or runtime type, an unknown plugin and a value outside an enum each fail",
        arguments: [
            ("default_runtime_name", "default_runtime_nam", "ContainerdConfig has no key 'default_runtime_nam'", 1),
            ("BinaryName", "BinaryPath", "runcoptions.Options has no key 'BinaryPath'", 1),
            ("discard_blocks = true", "discard_blocks = \"true\"", "wants a boolean, the file has a string", 1),
            ("SystemdCgroup = true", "SystemdCgroup = 1", "wants a boolean, the file has an integer", 2),
            ("bin_dirs = [\"/opt/cni/bin\"]", "bin_dirs = \"/opt/cni/bin\"", "wants an array", 1),
            (
                "container_annotations = [\"com.urunc.unikernel.*\"]", "container_annotations = [1]",
                "container_annotations[0]: ContainerAnnotations []string item wants a string", 1
            ),
            (
                "[plugins.\"io.containerd.cri.v1.images\".pinned_images]",
                "[plugins.\"io.containerd.cri.v1.runtime\".pinned_images]", "RuntimeConfig has no key 'pinned_images'",
                1
            ),
            (
                "runtime_type = \"io.containerd.kata-qemu.v2\"", "runtime_type = \"io.containerd.runc.v2\"",
                "kata-qemu.options.ConfigPath: runcoptions.Options has no key 'ConfigPath'", 1
            ),
            (
                "\"io.containerd.cri.v1.images\"", "\"io.containerd.grpc.v1.cri\"",
                "no plugin io.containerd.grpc.v1.cri in the fixture", 1
            ),
            ("fs_type = \"ext2\"", "fs_type = \"ext3\"", "'ext3' is not one of [\"ext2\", \"ext4\", \"xfs\"]", 1),
        ])
    func planted(_ from: String, _ to: String, _ message: String, _ count: Int) throws {
        let f = try ContainerdFixture()
        let text = try String(contentsOf: Self.golden, encoding: .utf8)
        #expect(try Self.check(text, f).report.problems == [])
        #expect(text.components(separatedBy: from).count - 1 == count, "the golden file has '\(from)' \(count) times")
        let problems = try Self.check(text.replacingOccurrences(of: from, with: to), f).report.problems
        #expect(problems.count == count && problems.allSatisfy { $0.contains(message) }, "\(problems)")
    }
}
