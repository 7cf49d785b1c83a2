import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

/// Issue 22: every rendered Kubernetes-side document checked against upstream's own schema
/// at the pinned version (docs/kubernetes.md lists what is checked against what).
@Suite("Kubernetes API objects against upstream OpenAPI (kubernetes-validate, strict)")
struct K8sAPIObjectSchemaTests {
    /// Writes every Kubernetes API object a shipped topology's control plane applies
    /// (RuntimeClasses, smoke Pods; KubeVirt's objects are CRs, checked in KubeVirtSchemaTests).
    static func renderedObjects(into dir: URL) throws -> [String: [URL]] {
        var byVersion: [String: [URL]] = [:]
        for (topology, c) in try ShippedClusters.all() {
            guard let cp = c.controlPlane else { continue }
            for f in cp.bootstrap.clusterManifests where f.path.hasSuffix(".yaml") {
                let docs = ShippedClusters.documents(f.text)
                // KubeVirt CRs have no OpenAPI schema in Kubernetes: see KubeVirtSchemaTests.
                if docs.allSatisfy({ $0.contains("apiVersion: kubevirt.io/") }) { continue }
                #expect(
                    !docs.contains { $0.contains("apiVersion: kubevirt.io/") },
                    "\(f.path) mixes KubeVirt and core objects")
                let name =
                    "\(topology)-\(c.cluster.name)-" + f.path.split(separator: "/").suffix(2).joined(separator: "-")
                let url = dir.appendingPathComponent(name)
                try Data(f.content).write(to: url)
                byVersion[ShippedClusters.minor(c), default: []].append(url)
            }
        }
        return byVersion
    }

    @Test(
        "every RuntimeClass and smoke Pod of every shipped topology validates strictly at its pinned Kubernetes version"
    )
    func shippedObjects() throws {
        try #require(K8sSchema.isInstalled, "\(K8sSchema.missingMessage)")
        let dir = try HandoffTestSupport.temporaryDirectory("k8s-objects")
        defer { try? FileManager.default.removeItem(at: dir) }
        let byVersion = try Self.renderedObjects(into: dir)
        // The paper's pin (topologies say 1.33 / 1.33.4); a new pin shows up here first.
        #expect(Set(byVersion.keys) == ["1.33"])
        let files = byVersion.values.flatMap { $0 }.map(\.lastPathComponent)
        #expect(files.contains("nested-mitigated-nested-manifests-runtimeclasses.yaml"))
        #expect(files.contains("nested-mitigated-nested-smoke-kata-qemu.yaml"))
        #expect(files.contains("ci-cluster-k-smoke-crun.yaml"))
        var resources = 0
        for (version, urls) in byVersion {
            for r in try K8sSchema.validate(files: urls, version: version) {
                #expect(r.ok, "\(r)")
                resources += r.passed.count
            }
        }
        // RuntimeClasses (crun, kata-qemu, urunc) and a smoke Pod per runtime, in every cluster.
        #expect(resources >= 20, "only \(resources) objects validated")
    }

    @Test("a misspelled field, a wrong type and a missing required field are each caught, file by file")
    func strictErrorsAreCaught() throws {
        try #require(K8sSchema.isInstalled, "\(K8sSchema.missingMessage)")
        let dir = try HandoffTestSupport.temporaryDirectory("k8s-strict")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try #require(try ShippedClusters.all().first { $0.topology == "nested-mitigated" }?.cluster)
        let cp = try #require(c.controlPlane)
        let pod = try #require(cp.bootstrap.file(at: "\(NodePaths.smoke)/runc.yaml")).text
        let classes = try #require(cp.bootstrap.file(at: "\(NodePaths.manifests)/runtimeclasses.yaml")).text
        func write(_ name: String, _ text: String) throws -> URL {
            let u = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: u)
            return u
        }
        let good = try write("good.yaml", pod)
        #expect(pod.contains("restartPolicy: Never"))
        let misspelled = try write(
            "misspelled.yaml", pod.replacingOccurrences(of: "restartPolicy:", with: "restartPolicyy:"))
        #expect(pod.contains("terminationGracePeriodSeconds: 0"))
        let wrongType = try write(
            "wrong-type.yaml",
            pod.replacingOccurrences(
                of: "terminationGracePeriodSeconds: 0", with: "terminationGracePeriodSeconds: 'zero'"))
        let noHandler = try write("no-handler.yaml", classes.replacingOccurrences(of: "handler:", with: "handlr:"))
        let results = try K8sSchema.validate(files: [good, misspelled, wrongType, noHandler], version: "1.33")
        #expect(results.map(\.ok) == [true, false, false, false], "\(results)")
        #expect(results[1].problems.joined().contains("'restartPolicyy' was unexpected"), "\(results[1])")
        #expect(results[2].problems.joined().contains("is not of type 'integer'"), "\(results[2])")
        #expect(results[3].problems.joined().contains("'handler' is a required property"), "\(results[3])")
    }
}

@Suite("KubeVirt CR and smoke VirtualMachineInstance against KubeVirt v1.6.0's CRD schemas (fixture, strict)")
struct KubeVirtSchemaTests {
    @Test("the fixture names its origin (kubevirt/kubevirt at the pinned tag and commit) and holds both CRDs, strict")
    func fixtureOrigin() throws {
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: KubeVirtSchema.fixture)) as? [String: Any])
        let origin = try #require(root["origin"] as? [String: Any])
        #expect(origin["repository"] as? String == "kubevirt/kubevirt")
        #expect((origin["commit"] as? String)?.range(of: "^[0-9a-f]{40}$", options: .regularExpression) != nil)
        #expect(
            (origin["paths"] as? [String])?.first
                == "pkg/virt-operator/resource/generate/components/validations_generated.go")
        let crds = try #require(root["crds"] as? [String: [String: Any]])
        #expect(Set(crds.keys) == ["kubevirts.kubevirt.io", "virtualmachineinstances.kubevirt.io"])
        #expect(crds["kubevirts.kubevirt.io"]?["kind"] as? String == "KubeVirt")
        #expect(crds["virtualmachineinstances.kubevirt.io"]?["kind"] as? String == "VirtualMachineInstance")
        let spec =
            ((crds["virtualmachineinstances.kubevirt.io"]?["schema"] as? [String: Any])?["properties"] as? [String: Any])?[
                "spec"]
            as? [String: Any]
        #expect(spec?["additionalProperties"] as? Bool == false)
        // Every shipped topology pins the version the fixture was derived from; a new pin needs a new fixture.
        let tag = try KubeVirtSchema.fixtureTag()
        var pinned = 0
        for (topology, c) in try ShippedClusters.all() {
            guard let k = c.spec.runtimes.kubevirt else { continue }
            #expect(k.version == tag, "\(topology)/\(c.cluster.name) pins KubeVirt \(k.version), the fixture is \(tag)")
            pinned += 1
        }
        #expect(pinned > 0)
    }

    @Test(
        "every KubeVirt CR and smoke VMI of every shipped topology validates strictly against the pinned KubeVirt's CRDs"
    )
    func shippedObjects() throws {
        try #require(K8sSchema.isInstalled, "\(K8sSchema.missingMessage)")
        let dir = try HandoffTestSupport.temporaryDirectory("kubevirt-objects")
        defer { try? FileManager.default.removeItem(at: dir) }
        var byVersion: [String: [URL]] = [:]
        var expected: [String: String] = [:]
        func add(_ name: String, _ text: String, _ resource: String, _ version: String) throws {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            byVersion[version, default: []].append(url)
            expected[url.path] = resource
        }
        for (topology, c) in try ShippedClusters.all() where c.spec.runtimes.kubevirt != nil {
            let cp = try #require(c.controlPlane, "\(topology)/\(c.cluster.name)")
            let prefix = "\(topology)-\(c.cluster.name)"
            let cr = try #require(cp.bootstrap.file(at: "\(NodePaths.manifests)/kubevirt-cr.yaml"), "\(prefix)")
            try add("\(prefix)-kubevirt-cr.yaml", cr.text, "kubevirt/kubevirt", ShippedClusters.minor(c))
            let vmi = try #require(cp.bootstrap.file(at: "\(NodePaths.smoke)/kubevirt.yaml"), "\(prefix)")
            try add(
                "\(prefix)-smoke-kubevirt.yaml", vmi.text, "virtualmachineinstance/nestlab-smoke-kubevirt",
                ShippedClusters.minor(c))
            // What the lead may switch on: the CPUManager gate (static CPU manager) and emulation (no /dev/kvm).
            var spec = c.spec
            spec.kubelet.cpuManagerPolicy = .static
            spec.runtimes.kubevirt?.useEmulation = true
            let variant = try YAMLBuilder.render([try #require(ClusterManifests.kubevirtCR(spec))])
            #expect(variant.contains("- CPUManager") && variant.contains("useEmulation: true"), "\(variant)")
            try add(
                "\(prefix)-kubevirt-cr-static-emulated.yaml", variant, "kubevirt/kubevirt", ShippedClusters.minor(c))
        }
        #expect(Set(byVersion.keys) == ["1.33"])
        #expect(byVersion.values.joined().count >= 9, "three shipped topologies with KubeVirt at least")
        for (version, urls) in byVersion {
            for r in try KubeVirtSchema.validate(files: urls, kubernetesVersion: version) {
                #expect(r.ok, "\(r)")
                #expect(r.passed == [expected[r.file.path] ?? "?"], "\(r)")
            }
        }
    }

    @Test(
        "a misspelled field, a wrong type, a value outside an enum, a missing required field and an unserved version are caught"
    )
    func strictErrorsAreCaught() throws {
        try #require(K8sSchema.isInstalled, "\(K8sSchema.missingMessage)")
        let dir = try HandoffTestSupport.temporaryDirectory("kubevirt-strict")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try #require(try ShippedClusters.all().first { $0.topology == "nested-mitigated" }?.cluster)
        let cp = try #require(c.controlPlane)
        let cr = try #require(cp.bootstrap.file(at: "\(NodePaths.manifests)/kubevirt-cr.yaml")).text
        let vmi = try #require(cp.bootstrap.file(at: "\(NodePaths.smoke)/kubevirt.yaml")).text
        // (name, document, rendered text, planted text, what the validator must say)
        let cases: [(String, String, String, String, String)] = [
            (
                "vmi-misspelled", vmi, "terminationGracePeriodSeconds:", "terminationGracePeriodSecond:",
                "'terminationGracePeriodSecond' was unexpected"
            ),
            (
                "vmi-wrong-type", vmi, "terminationGracePeriodSeconds: 0", "terminationGracePeriodSeconds: 'zero'",
                "'zero' is not of type 'integer'"
            ),
            ("vmi-bus-enum", vmi, "bus: virtio", "bus: virtio-blk", "'virtio-blk' is not one of"),
            ("vmi-quantity", vmi, "memory: 128Mi", "memory: 128MB", "does not match"),
            ("vmi-no-image", vmi, "image:", "imag:", "'image' is a required property"),
            ("vmi-metadata", vmi, "namespace: default", "namespac: default", "'namespac' was unexpected"),
            ("vmi-unserved", vmi, "apiVersion: kubevirt.io/v1", "apiVersion: kubevirt.io/v2", "no served CRD"),
            ("cr-misspelled", cr, "featureGates:", "featureGate:", "'featureGate' was unexpected"),
            (
                "cr-wrong-type", cr, "workloadUpdateStrategy: {}", "workloadUpdateStrategy: []",
                "is not of type 'object'"
            ),
            (
                "cr-pull-enum", cr, "imagePullPolicy: IfNotPresent", "imagePullPolicy: Sometimes",
                "'Sometimes' is not one of"
            ),
        ]
        var files: [URL] = []
        for (name, text, from, to, _) in [("vmi-good", vmi, "", "", ""), ("cr-good", cr, "", "", "")] + cases {
            if !from.isEmpty { #expect(text.contains(from), "\(name): the rendered document has no '\(from)'") }
            let url = dir.appendingPathComponent("\(name).yaml")
            try Data((from.isEmpty ? text : text.replacingOccurrences(of: from, with: to)).utf8).write(to: url)
            files.append(url)
        }
        let results = try KubeVirtSchema.validate(files: files, kubernetesVersion: "1.33")
        #expect(results[0].ok && results[1].ok, "\(results[0]); \(results[1])")
        for (i, planted) in cases.enumerated() {
            let r = results[i + 2]
            #expect(!r.ok && r.problems.joined(separator: "; ").contains(planted.4), "\(planted.0): \(r)")
        }
    }
}

/// kubeadm's and the kubelet's configuration types as upstream's Go code declares them.
struct K8sConfigFixture {
    let root: [String: Any]
    let types: [String: [String: Any]]
    let documents: [String: [String]]

    static let path = HandoffTestSupport.root.appendingPathComponent("Tests/Fixtures/upstream/k8s-config-types.json")

    init() throws {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.path))
        root = object as? [String: Any] ?? [:]
        types = root["types"] as? [String: [String: Any]] ?? [:]
        documents = root["documents"] as? [String: [String]] ?? [:]
    }

    /// Every field a struct accepts, inline (embedded) structs included; TypeMeta gives apiVersion and kind.
    func fields(of type: String) -> [String: [String: Any]] {
        guard let t = types[type] else { return [:] }
        var out = t["fields"] as? [String: [String: Any]] ?? [:]
        for inline in t["inline"] as? [String] ?? [] {
            if inline == "metav1.TypeMeta" {
                out["apiVersion"] = ["kind": "string"]
                out["kind"] = ["kind": "string"]
            } else {
                out.merge(fields(of: inline)) { a, _ in a }
            }
        }
        return out
    }

    /// Problems of one parsed document (`path: what is wrong`); empty when it matches.
    func check(document: [String: Any]) -> [String] {
        guard let apiVersion = document["apiVersion"] as? String, let kind = document["kind"] as? String else {
            return ["document has no apiVersion/kind"]
        }
        guard let kinds = documents[apiVersion] else { return ["apiVersion \(apiVersion) is not in the fixture"] }
        guard kinds.contains(kind) else {
            return ["\(apiVersion) has no kind \(kind) (it has \(kinds.joined(separator: ", ")))"]
        }
        return check(document, spec: ["kind": "struct", "ref": kind], path: kind)
    }

    /// Go's time.ParseDuration syntax (metav1.Duration), e.g. `0s`, `1h30m`, `500ms`.
    static func isGoDuration(_ s: String) -> Bool {
        s.range(of: #"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$"#, options: .regularExpression) != nil
    }

    func check(_ value: Any, spec: [String: Any], path: String) -> [String] {
        let kind = spec["kind"] as? String ?? "?"
        // JSONSerialization gives NSNumbers for both: a boolean one has objCType "c".
        func isBool(_ v: Any) -> Bool {
            Swift.type(of: v) == Bool.self || (v as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
        }
        switch kind {
        case "struct":
            guard let object = value as? [String: Any] else { return ["\(path): expected an object, found \(value)"] }
            let known = fields(of: spec["ref"] as? String ?? "")
            var problems: [String] = []
            for key in object.keys.sorted() {
                guard let field = known[key] else {
                    problems.append(
                        "\(path).\(key): unknown field (\(spec["ref"] ?? "?") has \(known.keys.sorted().joined(separator: ", ")))"
                    )
                    continue
                }
                problems += check(object[key]!, spec: field, path: "\(path).\(key)")
            }
            return problems
        case "string":
            guard let s = value as? String else { return ["\(path): expected a string, found \(value)"] }
            if let allowed = spec["enum"] as? [String], !allowed.contains(s) {
                return ["\(path): '\(s)' is not one of \(allowed.joined(separator: ", "))"]
            }
            return []
        case "bool":
            return isBool(value) ? [] : ["\(path): expected a bool, found \(value)"]
        case "int":
            guard let n = value as? NSNumber, !isBool(value), n.doubleValue == n.doubleValue.rounded() else {
                return ["\(path): expected an integer, found \(value)"]
            }
            return []
        case "number":
            return (value is NSNumber && !isBool(value)) ? [] : ["\(path): expected a number, found \(value)"]
        case "duration":
            guard let s = value as? String, Self.isGoDuration(s) else {
                return ["\(path): expected a Go duration such as 30s or 1h0m0s, found \(value)"]
            }
            return []
        case "time":
            return value is String ? [] : ["\(path): expected an RFC 3339 time, found \(value)"]
        case "list":
            guard let items = value as? [Any] else { return ["\(path): expected a list, found \(value)"] }
            let itemSpec = spec["items"] as? [String: Any] ?? [:]
            return items.enumerated().flatMap { check($1, spec: itemSpec, path: "\(path)[\($0)]") }
        case "map":
            guard let object = value as? [String: Any] else { return ["\(path): expected a map, found \(value)"] }
            let valueSpec = spec["values"] as? [String: Any] ?? [:]
            return object.keys.sorted().flatMap { check(object[$0]!, spec: valueSpec, path: "\(path)[\($0)]") }
        case "external":
            // A type of another package (corev1.Taint, ...): its own schema is not in the fixture.
            return []
        default:
            return ["\(path): fixture has an unknown type kind \(kind)"]
        }
    }
}

/// Parses YAML documents to JSON objects with PyYAML (python3-yaml, which setup-host installs).
func parseYAMLDocuments(_ text: String) throws -> [[String: Any]] {
    let r = try HandoffTestSupport.run(
        [
            "python3", "-c",
            "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))",
        ],
        stdin: Data(text.utf8))
    guard r.status == 0 else { throw K8sSchema.Failure.validatorFailed(status: r.status, output: r.stderr) }
    return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
}

@Suite("kubeadm and kubelet configuration against upstream Go types (fixture)")
struct K8sConfigSchemaTests {
    @Test("the fixture names its origin and holds the four documents nestlab renders")
    func fixtureOrigin() throws {
        let f = try K8sConfigFixture()
        let origins = try #require(f.root["origins"] as? [[String: String]])
        #expect(
            origins.map { $0["path"] ?? "" } == [
                "cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go", "cmd/kubeadm/app/apis/bootstraptoken/v1/types.go",
                "config/v1beta1/types.go",
            ])
        #expect(origins.allSatisfy { ($0["repository"] ?? "").hasPrefix("kubernetes/") && !($0["ref"] ?? "").isEmpty })
        #expect(f.documents["kubeadm.k8s.io/v1beta4"]?.contains("JoinConfiguration") == true)
        #expect(f.documents["kubelet.config.k8s.io/v1beta1"] == ["KubeletConfiguration"])
        #expect(f.fields(of: "KubeletConfiguration").count > 100)
    }

    @Test("every rendered kubeadm init/join file of every shipped topology matches the fixture field for field")
    func shippedConfigs() throws {
        let f = try K8sConfigFixture()
        var kinds: [String: Int] = [:]
        for (topology, c) in try ShippedClusters.all() {
            for node in c.nodes {
                for path in [NodePaths.kubeadmInit, NodePaths.kubeadmJoin] {
                    guard let file = node.bootstrap.file(at: path) else { continue }
                    for doc in try parseYAMLDocuments(file.text) {
                        kinds[doc["kind"] as? String ?? "?", default: 0] += 1
                        let problems = f.check(document: doc)
                        #expect(problems.isEmpty, "\(topology)/\(node.name) \(path): \(problems)")
                    }
                }
            }
        }
        #expect(
            Set(kinds.keys) == [
                "InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "JoinConfiguration",
            ])
    }

    @Test(
        "a planted unknown field, wrong type or value outside an enum fails",
        arguments: [
            ("KubeletConfiguration", "failSwapOn", "failSwapOff", "unknown field"),
            (
                "KubeletConfiguration", "topologyManagerPolicy: single-numa-node", "topologyManagerPolicy: single-numa",
                "is not one of"
            ),
            (
                "ClusterConfiguration", "encryptionAlgorithm: ECDSA-P256", "encryptionAlgorithm: ECDSA-P521",
                "is not one of"
            ),
            ("InitConfiguration", "bindPort: 6443", "bindPort: '6443'", "expected an integer"),
            ("InitConfiguration", "ttl: 0s", "ttl: forever", "expected a Go duration"),
            ("InitConfiguration", "  criSocket:", "  criSockett:", "unknown field"),
        ])
    func planted(_ kind: String, _ from: String, _ to: String, _ message: String) throws {
        let f = try K8sConfigFixture()
        let c = try #require(try ShippedClusters.all().first { $0.topology == "nested-mitigated" }?.cluster)
        let text = try #require(c.controlPlane?.bootstrap.file(at: NodePaths.kubeadmInit)).text
        let docs = try parseYAMLDocuments(text)
        let doc = try #require(docs.first { $0["kind"] as? String == kind })
        #expect(f.check(document: doc).isEmpty)
        let yaml = ShippedClusters.documents(text).first { $0.contains("kind: \(kind)\n") } ?? ""
        #expect(yaml.contains(from), "\(kind) renders no '\(from)'")
        let planted = try #require(try parseYAMLDocuments(yaml.replacingOccurrences(of: from, with: to)).first)
        let problems = f.check(document: planted)
        #expect(problems.count == 1 && problems[0].contains(message), "\(problems)")
    }
}

/// Kata's configuration-*.toml.in and KubeVirt's feature gates at the pinned versions.
struct RuntimeFixture {
    let root: [String: Any]
    static let path = HandoffTestSupport.root.appendingPathComponent("Tests/Fixtures/upstream/runtimes.json")

    init() throws {
        root = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.path)) as? [String: Any] ?? [:]
    }

    var kata: [String: Any] { root["kata"] as? [String: Any] ?? [:] }
    var gates: [String: String] {
        (root["kubevirtFeatureGates"] as? [String: Any])?["gates"] as? [String: String] ?? [:]
    }

    /// Where kata.sh's nl_toml_set would write `key` (first live line, else first commented
    /// one) and whether that is `section` with `type`; nil when it fits.
    func kataProblem(file: String, section: String, key: String, type: String) -> String? {
        let entries = (kata["files"] as? [String: [[String: Any]]])?[file] ?? []
        let same = entries.filter { $0["key"] as? String == key }
        guard let target = same.first(where: { $0["commented"] as? Bool == false }) ?? same.first else {
            return "\(file): no '\(key)' anywhere (kata.sh would fail: it has no line to set)"
        }
        let at = "\(file):\(target["line"] ?? "?")"
        if target["section"] as? String != section {
            return "\(at): '\(key)' would be set in [\(target["section"] ?? "?")], not [\(section)]"
        }
        if target["type"] as? String != type {
            return "\(at): '\(key)' is a \(target["type"] ?? "?") upstream, nestlab writes a \(type)"
        }
        return nil
    }

    /// The TOML type of a rendered value (`TOMLWriter.value`).
    static func tomlType(_ value: String) -> String {
        if value == "true" || value == "false" { return "bool" }
        if value.hasPrefix("\"") { return "string" }
        if value.hasPrefix("[") { return "list" }
        if Int(value) != nil { return "int" }
        return "unknown"
    }
}

@Suite("Kata knobs and KubeVirt feature gates against upstream (fixture)")
struct RuntimeUpstreamTests {
    @Test("the fixture names its origins: Kata 3.20.0 and KubeVirt v1.6.0, tag and commit")
    func origins() throws {
        let f = try RuntimeFixture()
        let kata = try #require(f.kata["origin"] as? [String: Any])
        #expect(kata["repository"] as? String == "kata-containers/kata-containers")
        #expect(kata["tag"] as? String == "3.20.0")
        let kv = try #require((f.root["kubevirtFeatureGates"] as? [String: Any])?["origin"] as? [String: Any])
        #expect(kv["repository"] as? String == "kubevirt/kubevirt")
        #expect(kv["tag"] as? String == "v1.6.0")
        // The topologies pin these versions; a new pin needs a new fixture.
        for (_, c) in try ShippedClusters.all() {
            if let k = c.spec.runtimes.kata { #expect(k.version == "3.20.0") }
            if let k = c.spec.runtimes.kubevirt { #expect(k.version == "v1.6.0") }
        }
    }

    @Test("every Kata knob of every shipped topology is a key of its hypervisor's section, with upstream's type")
    func kataKnobs() throws {
        let f = try RuntimeFixture()
        var checked = 0
        for (topology, c) in try ShippedClusters.all() {
            guard let kata = c.spec.runtimes.kata else { continue }
            for node in c.nodes {
                for h in kata.hypervisors {
                    let file = try #require(node.bootstrap.file(at: "\(NodePaths.kataKnobs)/\(h.rawValue).knobs"))
                    for line in file.text.split(separator: "\n") where !line.hasPrefix("#") {
                        let parts = line.split(separator: "=", maxSplits: 1).map {
                            $0.trimmingCharacters(in: .whitespaces)
                        }
                        try #require(parts.count == 2, "\(line)")
                        let problem = f.kataProblem(
                            file: h.configFile, section: "hypervisor.\(h.sectionName)", key: parts[0],
                            type: RuntimeFixture.tomlType(parts[1]))
                        #expect(problem == nil, "\(topology)/\(node.name): \(problem ?? "")")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 0)
        // Every knob nestlab can write, for every hypervisor (the test sample sets them all).
        let all = KataKnobs(
            defaultVCPUs: 2, defaultMemoryMiB: 4096, enableHugepages: true, sharedFS: .virtioFS, virtioFSCache: .never)
        for h in KataHypervisor.allCases {
            for (key, value) in all.lines(for: h) {
                let problem = f.kataProblem(
                    file: h.configFile, section: "hypervisor.\(h.sectionName)", key: key,
                    type: RuntimeFixture.tomlType(TOMLWriter.value(value)))
                #expect(problem == nil, "\(h): \(problem ?? "")")
            }
        }
    }

    @Test("a knob upstream lacks, in the wrong section or of the wrong type, is caught")
    func kataPlanted() throws {
        let f = try RuntimeFixture()
        #expect(
            f.kataProblem(
                file: "configuration-qemu.toml", section: "hypervisor.qemu", key: "default_vcpu", type: "int")?
                .contains("no 'default_vcpu'") == true)
        #expect(
            f.kataProblem(
                file: "configuration-qemu.toml", section: "hypervisor.qemu", key: "default_memory", type: "string")?
                .contains("is a int upstream") == true)
        #expect(
            f.kataProblem(
                file: "configuration-fc.toml", section: "hypervisor.firecracker", key: "shared_fs", type: "string")
                != nil)
        #expect(
            f.kataProblem(
                file: "configuration-qemu.toml", section: "hypervisor.qemu", key: "sandbox_cgroup_only", type: "bool")?
                .contains("would be set in [") == true)
    }

    @Test(
        "every KubeVirt feature gate nestlab sets exists in KubeVirt v1.6.0 and is neither GA nor deprecated nor discontinued"
    )
    func kubevirtGates() throws {
        let f = try RuntimeFixture()
        #expect(f.gates["CPUManager"] == "Alpha")
        #expect(f.gates["LiveMigration"] == "GA")
        var clusters = try ShippedClusters.all().map(\.cluster.spec).filter { $0.runtimes.kubevirt != nil }
        #expect(!clusters.isEmpty)
        // Both kubelet policies, so the CPUManager gate is rendered at least once.
        for var spec in clusters {
            spec.kubelet.cpuManagerPolicy = .static
            clusters.append(spec)
        }
        var seen: Set<String> = []
        for spec in clusters {
            let cr = try #require(ClusterManifests.kubevirtCR(spec))
            let doc = try #require(try parseYAMLDocuments(try YAMLBuilder.render([cr])).first)
            let gates =
                ((((doc["spec"] as? [String: Any])?["configuration"] as? [String: Any])?["developerConfiguration"]
                    as? [String: Any])?["featureGates"] as? [String]) ?? []
            for gate in gates {
                seen.insert(gate)
                let state = f.gates[gate]
                #expect(
                    state == "Alpha" || state == "Beta",
                    "\(spec.name): feature gate \(gate) is \(state ?? "unknown") in KubeVirt v1.6.0: do not set it")
            }
        }
        #expect(seen.contains("CPUManager"))
    }
}

@Suite("containerd config of every shipped topology against the real containerd's config dump")
struct ShippedContainerdDumpTests {
    /// Leaves of `rendered` that `containerd --config rendered config dump` does not hold with the same value.
    static func keysLost(_ rendered: String) throws -> [String] {
        let dir = try HandoffTestSupport.temporaryDirectory("containerd-dump")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.toml")
        try Data(rendered.utf8).write(to: file)
        let dump = try HandoffTestSupport.run(["/usr/bin/containerd", "--config", file.path, "config", "dump"])
        #expect(dump.status == 0, "containerd config dump: \(dump.stderr)")
        let dumpFile = dir.appendingPathComponent("dump.toml")
        try Data(dump.stdout.utf8).write(to: dumpFile)
        let script = """
            import sys, tomllib
            a = tomllib.load(open(sys.argv[1], 'rb')); b = tomllib.load(open(sys.argv[2], 'rb'))
            def walk(x, path):
                if isinstance(x, dict):
                    for k, v in x.items(): yield from walk(v, path + [k])
                else: yield path, x
            for path, v in walk(a, []):
                d = b
                for k in path: d = d.get(k) if isinstance(d, dict) else None
                if d != v: print('.'.join(path))
            """
        let r = try HandoffTestSupport.run(["python3", "-c", script, file.path, dumpFile.path])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    @Test("every key of every shipped version-2 containerd config survives Debian's containerd config dump")
    func shipped() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd"),
            "install containerd (Tests/Scripts/setup-host)")
        var checked = 0
        for (topology, c) in try ShippedClusters.all() {
            // Version 3 (containerd 2.x) cannot be read by Debian's 1.6: ContainerdSchemaTests checks it against
            // containerd v2.1.4's own config types.
            guard c.spec.containerd.version.configVersion == 2, let node = c.nodes.first,
                let file = node.bootstrap.file(at: NodePaths.containerdConfig)
            else { continue }
            #expect(try Self.keysLost(file.text) == [], "\(topology)/\(c.cluster.name)")
            checked += 1
        }
        #expect(checked >= 1, "ci-cluster renders a containerd 1.6 config")
    }

    @Test("a key containerd does not know is reported as lost")
    func plantedKeyIsLost() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd"),
            "install containerd (Tests/Scripts/setup-host)")
        let c = try #require(
            try ShippedClusters.all().first { $0.cluster.spec.containerd.version.configVersion == 2 }?.cluster)
        let text = try #require(c.nodes.first?.bootstrap.file(at: NodePaths.containerdConfig)).text
        #expect(text.contains("SystemdCgroup = true"))
        let lost = try Self.keysLost(text.replacingOccurrences(of: "default_runtime_name", with: "default_runtime_nam"))
        #expect(lost == ["plugins.io.containerd.grpc.v1.cri.containerd.default_runtime_nam"], "\(lost)")
    }
}
