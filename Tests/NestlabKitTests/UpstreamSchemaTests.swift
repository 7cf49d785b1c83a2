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
                #expect(!docs.contains { $0.contains("apiVersion: kubevirt.io/") }, "\(f.path) mixes KubeVirt and core objects")
                let name = "\(topology)-\(c.cluster.name)-" + f.path.split(separator: "/").suffix(2).joined(separator: "-")
                let url = dir.appendingPathComponent(name)
                try Data(f.content).write(to: url)
                byVersion[ShippedClusters.minor(c), default: []].append(url)
            }
        }
        return byVersion
    }

    @Test("every RuntimeClass and smoke Pod of every shipped topology validates strictly at its pinned Kubernetes version")
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
        let misspelled = try write("misspelled.yaml", pod.replacingOccurrences(of: "restartPolicy:", with: "restartPolicyy:"))
        #expect(pod.contains("terminationGracePeriodSeconds: 0"))
        let wrongType = try write("wrong-type.yaml", pod.replacingOccurrences(
            of: "terminationGracePeriodSeconds: 0", with: "terminationGracePeriodSeconds: 'zero'"))
        let noHandler = try write("no-handler.yaml", classes.replacingOccurrences(of: "handler:", with: "handlr:"))
        let results = try K8sSchema.validate(files: [good, misspelled, wrongType, noHandler], version: "1.33")
        #expect(results.map(\.ok) == [true, false, false, false], "\(results)")
        #expect(results[1].problems.joined().contains("'restartPolicyy' was unexpected"), "\(results[1])")
        #expect(results[2].problems.joined().contains("is not of type 'integer'"), "\(results[2])")
        #expect(results[3].problems.joined().contains("'handler' is a required property"), "\(results[3])")
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
        guard kinds.contains(kind) else { return ["\(apiVersion) has no kind \(kind) (it has \(kinds.joined(separator: ", ")))"] }
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
                    problems.append("\(path).\(key): unknown field (\(spec["ref"] ?? "?") has \(known.keys.sorted().joined(separator: ", ")))")
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
        ["python3", "-c", "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))"],
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
        #expect(origins.map { $0["path"] ?? "" } == [
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
        #expect(Set(kinds.keys) == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "JoinConfiguration"])
    }

    @Test("a planted unknown field, wrong type or value outside an enum fails", arguments: [
        ("KubeletConfiguration", "failSwapOn", "failSwapOff", "unknown field"),
        ("KubeletConfiguration", "topologyManagerPolicy: single-numa-node", "topologyManagerPolicy: single-numa", "is not one of"),
        ("ClusterConfiguration", "encryptionAlgorithm: ECDSA-P256", "encryptionAlgorithm: ECDSA-P521", "is not one of"),
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
