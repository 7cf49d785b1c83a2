import Foundation
import Testing
import Yams

@testable import NestlabCore

@Suite("cluster manifests")
struct KubeManifestsTests {
    func load(_ text: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text).map { try #require($0 as? [String: Any]) }
    }

    @Test func runtimeClassesCarryHandlerOverheadAndSelector() throws {
        let cluster = KubeSample.cluster(
            runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu),
            kubelet: KubeSample.tunedKubelet)
        let text = try YAMLBuilder.render(ClusterManifests.runtimeClasses(cluster))
        try expectGolden(text, "kube/runtimeclasses.yaml")
        let docs = try load(text)
        #expect(
            docs.map { ($0["metadata"] as? [String: Any])?["name"] as? String }
                == ["crun", "kata-qemu", "kata-clh", "kata-fc", "urunc"])
        for doc in docs {
            #expect(doc["apiVersion"] as? String == "node.k8s.io/v1")
            #expect(doc["kind"] as? String == "RuntimeClass")
            #expect(doc["handler"] as? String == (doc["metadata"] as? [String: Any])?["name"] as? String)
        }
        let kata = docs[1]
        let podFixed = try #require((kata["overhead"] as? [String: Any])?["podFixed"] as? [String: String])
        #expect(podFixed == ["memory": "160Mi", "cpu": "250m"])
        let selector = (kata["scheduling"] as? [String: Any])?["nodeSelector"] as? [String: String]
        #expect(selector == ["katacontainers.io/kata-runtime": "true"])
        #expect(docs[0]["overhead"] == nil && docs[0]["scheduling"] == nil)
        let urunc = (docs[4]["scheduling"] as? [String: Any])?["nodeSelector"] as? [String: String]
        #expect(urunc == ["urunc.io/urunc-runtime": "true"])
        // Only runc: nothing to apply.
        #expect(ClusterManifests.runtimeClasses(KubeSample.cluster()).isEmpty)
    }

    @Test func kubevirtCRFollowsEmulationAndCPUManager() throws {
        let tuned = KubeSample.cluster(
            runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu),
            kubelet: KubeSample.tunedKubelet)
        let text = try YAMLBuilder.render([try #require(ClusterManifests.kubevirtCR(tuned))])
        try expectGolden(text, "kube/kubevirt-cr-emulated-static.yaml")
        let cr = try #require(try load(text).first)
        #expect(cr["apiVersion"] as? String == "kubevirt.io/v1")
        #expect(cr["kind"] as? String == "KubeVirt")
        #expect((cr["metadata"] as? [String: String]) == ["name": "kubevirt", "namespace": "kubevirt"])
        let developer = try #require(
            ((cr["spec"] as? [String: Any])?["configuration"] as? [String: Any])?["developerConfiguration"]
                as? [String: Any])
        #expect(developer["useEmulation"] as? Bool == true)
        #expect(developer["featureGates"] as? [String] == ["CPUManager"])

        var plain = KubeSample.allRuntimes
        plain.kubevirt?.useEmulation = false
        let hardware = try #require(
            ClusterManifests.kubevirtCR(KubeSample.cluster(runtimes: plain, containerd: .distro(.ubuntu))))
        let doc = try #require(try load(try YAMLBuilder.render([hardware])).first)
        let dev = try #require(
            ((doc["spec"] as? [String: Any])?["configuration"] as? [String: Any])?["developerConfiguration"]
                as? [String: Any])
        #expect(dev["useEmulation"] == nil)
        #expect((dev["featureGates"] as? [String])?.isEmpty == true)
        #expect(ClusterManifests.kubevirtCR(KubeSample.cluster()) == nil)
    }

    @Test func smokeTestsOnePerRuntime() throws {
        let cluster = KubeSample.cluster(runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu))
        let tests = try ClusterManifests.smokeTests(cluster)
        #expect(tests.map(\.runtime) == ["runc", "crun", "kata-qemu", "kata-clh", "kata-fc", "urunc", "kubevirt"])
        #expect(
            tests.map(\.expectation) == [.succeeded, .succeeded, .succeeded, .succeeded, .succeeded, .running, .ready])
        for test in tests {
            let doc = try #require(try load(test.manifest).first)
            #expect(doc["kind"] as? String == test.kind)
            let metadata = try #require(doc["metadata"] as? [String: Any])
            #expect(metadata["name"] as? String == test.name)
            #expect(metadata["namespace"] as? String == test.namespace)
            let spec = try #require(doc["spec"] as? [String: Any])
            switch test.runtime {
            case "runc":
                #expect(spec["runtimeClassName"] == nil)
                #expect(spec["restartPolicy"] as? String == "Never")
            case "kubevirt":
                let volumes = try #require(spec["volumes"] as? [[String: Any]])
                #expect(
                    (volumes.first?["containerDisk"] as? [String: String])?["image"]
                        == "quay.io/kubevirt/cirros-container-disk-demo:v1.6.0")
            default:
                #expect(spec["runtimeClassName"] as? String == test.runtime)
            }
        }
        try expectGolden(tests[2].manifest, "kube/smoke-kata-qemu.yaml")
        try expectGolden(tests[6].manifest, "kube/smoke-kubevirt.yaml")
    }

    @Test func yamlStringsThatLookLikeOtherTypesAreQuoted() throws {
        let node = YAMLBuilder.map([
            ("a", YAMLBuilder.str("true")), ("b", YAMLBuilder.str("on")), ("c", YAMLBuilder.str("6443")),
            ("d", YAMLBuilder.str("1.0")), ("e", YAMLBuilder.str("")), ("f", YAMLBuilder.str("null")),
            ("g", YAMLBuilder.str("plain text")), ("h", YAMLBuilder.str("a: b")), ("i", YAMLBuilder.str("- x")),
        ])
        let text = try YAMLBuilder.render([node])
        let parsed = try #require(try Yams.load(yaml: text) as? [String: Any])
        for (key, value) in [
            "a": "true", "b": "on", "c": "6443", "d": "1.0", "e": "", "f": "null", "g": "plain text",
            "h": "a: b", "i": "- x",
        ] {
            #expect(parsed[key] as? String == value, "\(key)")
        }
        #expect(text.contains("b: \"on\"\n"))
    }
}

/// `YAMLBuilder.str` skips Yams' regex resolver for plain words; wherever it does, the
/// resolver must agree that the word is a string (or it is a YAML 1.1 boolean/null word,
/// which is quoted either way).
@Suite struct YAMLPlainWordTests {
    @Test(arguments: [
        "abc", "yes", "No", "ON", "off", "null", "NULL", "Null", "nUll", "y", "Y", "true", "False",
        "1.0", "6443", "0x1f", "0o17", "1e3", "2024-01-01", "1:20", "~", "", "<<", "=", ".inf", ".NaN",
        "-1", "+1", "a:b", "a b", "/usr/bin/kubeadm", "_x", "v1.31.0", "kube-flannel", "e5", "inf", "nan",
        // With a `/`, which no rule of the resolver takes: addresses, routes, odd mixtures.
        "10.77.0.11/16", "0.0.0.0/0", "1/2", "2024-01-01/x", "true/", "/", "1:20/3", "a/b c", "0x1f/", "/\n",
        "10.0.0.1", "52:54:00:12:34:56", "ALL=(ALL) NOPASSWD:ALL",
    ])
    func fastPathAgreesWithTheResolver(_ s: String) {
        let resolved = Resolver.default.resolveTag(of: .scalar(.init(s)))
        if YAMLBuilder.isPlainWord(s) || s.contains("/") {
            #expect(
                resolved == .str || YAMLBuilder.yaml11Words.contains(s.lowercased()), "\(s) resolves to \(resolved)")
        }
        let quoted = resolved != .str || YAMLBuilder.yaml11Words.contains(s.lowercased())
        // Twice: the second answer may come from the cache of resolved strings.
        for _ in 0..<2 {
            guard case .scalar(let scalar) = YAMLBuilder.str(s) else {
                Issue.record("not a scalar")
                return
            }
            #expect((scalar.style == .doubleQuoted) == quoted, "\(s)")
        }
    }
}
