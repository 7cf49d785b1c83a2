import Foundation
import NestlabCore
import Testing

/// Upstream's own schemas for what nestlab renders on the Kubernetes side (issue 22).
///
/// `K8sSchema.validate(files:version:)` runs kubernetes-validate (upstream's OpenAPI
/// schemas per Kubernetes version, offline) strictly on a batch of YAML files and returns
/// one result per file. It is the harness for every rendered API object: RuntimeClasses
/// and smoke Pods here, and any other file list (the benchmark Jobs, Pods and Services)
/// can be plugged in the same way. The validator lives in a virtual environment outside
/// the repository that `Tests/Scripts/k8s-schemas` makes; without it the tests fail and
/// say so (they do not skip).
enum K8sSchema {
    /// The pinned validator, as Tests/Scripts/k8s-schemas installs it.
    static let validatorVersion = "1.37.0"

    /// The venv: `NESTLAB_K8S_SCHEMAS_DIR`, else `$XDG_CACHE_HOME` or `~/.cache`, `nestlab/k8s-schemas-VERSION`.
    static var venv: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["NESTLAB_K8S_SCHEMAS_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
        return URL(fileURLWithPath: cache).appendingPathComponent("nestlab/k8s-schemas-\(validatorVersion)")
    }

    static var validator: URL { venv.appendingPathComponent("bin/kubernetes-validate") }
    /// The venv's python (it has PyYAML and jsonschema, kubernetes-validate's dependencies).
    static var python: URL { venv.appendingPathComponent("bin/python3") }

    /// The venv is complete (Tests/Scripts/k8s-schemas writes `ready` last).
    static var isInstalled: Bool {
        FileManager.default.fileExists(atPath: venv.appendingPathComponent("ready").path)
            && FileManager.default.isExecutableFile(atPath: validator.path)
    }

    static var missingMessage: String {
        "kubernetes-validate \(validatorVersion) is not installed at \(venv.path): run Tests/Scripts/k8s-schemas"
    }

    /// What the validator said about one file.
    struct FileResult: Sendable, CustomStringConvertible {
        var file: URL
        /// `resource/name` of every object that passed.
        var passed: [String] = []
        /// ERROR lines (schema violations) and WARN lines (no schema for the kind: for a
        /// Kubernetes API object that is a failure too, since it was not checked).
        var problems: [String] = []
        var ok: Bool { problems.isEmpty && !passed.isEmpty }
        var description: String {
            ok
                ? "\(file.lastPathComponent): \(passed.joined(separator: ", ")) passed"
                : "\(file.lastPathComponent): "
                    + (problems.isEmpty ? "nothing validated" : problems.joined(separator: "; "))
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case notInstalled(String)
        case validatorFailed(status: Int32, output: String)
        var description: String {
            switch self {
            case .notInstalled(let m): return m
            case .validatorFailed(let s, let o):
                return "kubernetes-validate exited \(s) without a verdict per file: \(o)"
            }
        }
    }

    /// Validates `files` strictly (unknown fields, wrong types, missing required fields) at
    /// Kubernetes `version` ("1.33" or "1.33.4"), in one run of the validator.
    static func validate(files: [URL], version: String) throws -> [FileResult] {
        guard isInstalled else { throw Failure.notInstalled(missingMessage) }
        let r = try HandoffTestSupport.run(
            [validator.path, "--strict", "--kubernetes-version", version] + files.map(\.path),
            environment: ["PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory()])
        return try results(files: files, status: r.status, output: r.stdout + r.stderr)
    }

    /// One result per file from kubernetes-validate's lines (Tests/Scripts/kubevirt-validate
    /// prints the same): `INFO F passed for resource K/N ...`, `ERROR F ...`, `WARN F ...`.
    static func results(files: [URL], status: Int32, output: String) throws -> [FileResult] {
        var results = files.map { FileResult(file: $0) }
        for line in output.split(separator: "\n").map(String.init) {
            // "INFO F passed for resource pod/x against version 1.33", "ERROR F did not validate ...: MSG",
            // "WARN F Couldn't find schema for kind K ...".
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let i = files.firstIndex(where: { $0.path == parts[1] }) else { continue }
            switch parts[0] {
            case "INFO" where parts[2].hasPrefix("passed for resource "):
                let resource =
                    parts[2].dropFirst("passed for resource ".count).split(separator: " ").first.map(String.init) ?? "?"
                results[i].passed.append(resource)
            case "ERROR", "WARN":
                results[i].problems.append(parts[2])
            default:
                continue
            }
        }
        // Exit 1 means some file failed; anything else without a line per file is the tool's own failure.
        if status != 0 && status != 1 || results.allSatisfy({ $0.passed.isEmpty && $0.problems.isEmpty }) {
            throw Failure.validatorFailed(status: status, output: output)
        }
        return results
    }
}

/// KubeVirt's custom resources (kubevirt.io/v1 KubeVirt, VirtualMachineInstance) against the
/// pinned KubeVirt's CRD schemas: `Tests/Fixtures/upstream/kubevirt-crds.json`, derived by
/// `Tests/Scripts/derive-kubevirt-fixture` from kubevirt/kubevirt's generated CRD validation.
/// `Tests/Scripts/kubevirt-validate` runs in the kubernetes-validate venv (jsonschema; ObjectMeta
/// from kubernetes-validate at the given Kubernetes version), strictly, one process per batch.
enum KubeVirtSchema {
    static let fixture = HandoffTestSupport.root.appendingPathComponent("Tests/Fixtures/upstream/kubevirt-crds.json")
    static let script = HandoffTestSupport.root.appendingPathComponent("Tests/Scripts/kubevirt-validate")

    /// The KubeVirt tag the fixture was derived from (`origin.tag`).
    static func fixtureTag() throws -> String {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any]
        return (root?["origin"] as? [String: Any])?["tag"] as? String ?? "?"
    }

    /// Validates every kubevirt.io object in `files` (unknown fields, wrong types, values
    /// outside an enum, missing required fields), `kubernetesVersion` for ObjectMeta.
    static func validate(files: [URL], kubernetesVersion: String) throws -> [K8sSchema.FileResult] {
        guard K8sSchema.isInstalled else { throw K8sSchema.Failure.notInstalled(K8sSchema.missingMessage) }
        let r = try HandoffTestSupport.run(
            [K8sSchema.python.path, script.path, "--fixture", fixture.path, "--kubernetes-version", kubernetesVersion]
                + files.map(\.path),
            environment: ["PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory()])
        return try K8sSchema.results(files: files, status: r.status, output: r.stdout + r.stderr)
    }
}

/// The shipped topologies' clusters, planned through nestlab's own renderers with stand-in secrets.
enum ShippedClusters {
    /// Stand-in material: the token and hash formats kubeadm takes, a dummy CA.
    static let material = ClusterMaterial(
        token: "abcdef.0123456789abcdef",
        caCertificatePEM: "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n",
        caKeyPEM: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEtest\n-----END EC PRIVATE KEY-----\n",
        discoveryHash: "sha256:" + String(repeating: "0f", count: 32))

    /// Every cluster of every shipped topology (topologies/*.yaml), as `plan` renders it.
    static func all() throws -> [(topology: String, cluster: PlannedCluster)] {
        var out: [(String, PlannedCluster)] = []
        for url in HandoffTestSupport.shippedTopologies {
            let name = url.deletingPathExtension().lastPathComponent
            let (t, lab) = try HandoffTestSupport.resolvedLab(name)
            var material: [String: ClusterMaterial] = [:]
            for c in t.clusters { material[c.name] = Self.material }
            for c in try ClusterPlanner.plan(lab: lab, material: material, lock: nil) { out.append((name, c)) }
        }
        return out
    }

    /// The Kubernetes minor a cluster pins ("1.33"), the granularity kubernetes-validate's schemas have.
    static func minor(_ c: PlannedCluster) -> String {
        "\(c.spec.kubernetesVersion.major).\(c.spec.kubernetesVersion.minor)"
    }

    /// The YAML documents of a multi-document file.
    static func documents(_ text: String) -> [String] {
        text.components(separatedBy: "\n---\n").map { $0.hasPrefix("---\n") ? String($0.dropFirst(4)) : $0 }
            .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }
}
