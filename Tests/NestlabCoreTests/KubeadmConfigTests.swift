import Foundation
import Testing
import Yams

@testable import NestlabCore

@Suite("kubeadm configs")
struct KubeadmConfigTests {
    /// Parses a multi-document YAML file into its documents.
    func documents(_ text: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: text).map { try #require($0 as? [String: Any]) }
    }

    @Test func initConfigMatchesGolden() throws {
        let cluster = KubeSample.cluster(
            runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu),
            kubelet: KubeSample.tunedKubelet)
        try expectGolden(try KubeadmConfig.renderInit(cluster, KubeSample.controlPlane), "kube/init-tuned.yaml")
        try expectGolden(
            try KubeadmConfig.renderInit(KubeSample.cluster(), KubeSample.controlPlane), "kube/init-plain.yaml")
        try expectGolden(try KubeadmConfig.renderJoin(cluster, KubeSample.worker), "kube/join-tuned.yaml")
    }

    @Test func initConfigStructure() throws {
        let cluster = KubeSample.cluster(
            runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu),
            kubelet: KubeSample.tunedKubelet)
        let docs = try documents(try KubeadmConfig.renderInit(cluster, KubeSample.controlPlane))
        #expect(docs.count == 3)
        #expect(
            docs.map { $0["kind"] as? String } == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"])
        #expect(docs[0]["apiVersion"] as? String == "kubeadm.k8s.io/v1beta4")
        #expect(docs[1]["apiVersion"] as? String == "kubeadm.k8s.io/v1beta4")
        #expect(docs[2]["apiVersion"] as? String == "kubelet.config.k8s.io/v1beta1")

        let tokens = try #require(docs[0]["bootstrapTokens"] as? [[String: Any]])
        #expect(tokens.first?["token"] as? String == "abcdef.0123456789abcdef")
        #expect(tokens.first?["ttl"] as? String == "0s")
        let endpoint = try #require(docs[0]["localAPIEndpoint"] as? [String: Any])
        #expect(endpoint["advertiseAddress"] as? String == "10.77.0.10")
        #expect(endpoint["bindPort"] as? Int == 6443)
        let registration = try #require(docs[0]["nodeRegistration"] as? [String: Any])
        #expect(registration["criSocket"] as? String == "unix:///run/containerd/containerd.sock")
        #expect(registration["name"] as? String == "cp")
        #expect(registration["taints"] == nil)
        // v1beta4: a list of {name, value}, not a map.
        let args = try #require(registration["kubeletExtraArgs"] as? [[String: String]])
        #expect(
            args == [
                ["name": "node-ip", "value": "10.77.0.10"],
                ["name": "node-labels", "value": "katacontainers.io/kata-runtime=true,urunc.io/urunc-runtime=true"],
            ])

        #expect(docs[1]["kubernetesVersion"] as? String == "v1.33.1")
        #expect(docs[1]["controlPlaneEndpoint"] as? String == "10.77.0.10:6443")
        #expect(docs[1]["encryptionAlgorithm"] as? String == "ECDSA-P256")
        #expect(docs[1]["clusterName"] as? String == "nested")
        let networking = try #require(docs[1]["networking"] as? [String: Any])
        #expect(networking["podSubnet"] as? String == "10.244.0.0/16")
        #expect(networking["serviceSubnet"] as? String == "10.96.0.0/12")
        let sans = try #require((docs[1]["apiServer"] as? [String: Any])?["certSANs"] as? [String])
        #expect(sans == ["10.77.0.10", "cp"])

        #expect(docs[2]["cgroupDriver"] as? String == "systemd")
        #expect(docs[2]["failSwapOn"] as? Bool == false)
        #expect(docs[2]["cpuManagerPolicy"] as? String == "static")
        // "0-1" must stay a string, and so must a single "0".
        #expect(docs[2]["reservedSystemCPUs"] as? String == "0-1")
        #expect(docs[2]["topologyManagerPolicy"] as? String == "single-numa-node")
    }

    @Test func reservedCPUsStayStrings() throws {
        let cluster = KubeSample.cluster(kubelet: KubeletTuning(cpuManagerPolicy: .static, reservedSystemCPUs: "0"))
        let text = try KubeadmConfig.renderInit(cluster, KubeSample.controlPlane)
        #expect(text.contains("reservedSystemCPUs: \"0\"\n"))
        let kubelet = try documents(text)[2]
        #expect(kubelet["reservedSystemCPUs"] as? String == "0")
    }

    @Test func joinConfigStructure() throws {
        let docs = try documents(try KubeadmConfig.renderJoin(KubeSample.cluster(), KubeSample.worker))
        #expect(docs.count == 1)
        #expect(docs[0]["kind"] as? String == "JoinConfiguration")
        #expect(docs[0]["apiVersion"] as? String == "kubeadm.k8s.io/v1beta4")
        let discovery = try #require((docs[0]["discovery"] as? [String: Any])?["bootstrapToken"] as? [String: Any])
        #expect(discovery["apiServerEndpoint"] as? String == "10.77.0.10:6443")
        #expect(discovery["token"] as? String == "abcdef.0123456789abcdef")
        #expect(discovery["caCertHashes"] as? [String] == ["sha256:" + String(repeating: "0f", count: 32)])
        let registration = try #require(docs[0]["nodeRegistration"] as? [String: Any])
        #expect(registration["name"] as? String == "worker-0")
        #expect(
            registration["kubeletExtraArgs"] as? [[String: String]] == [["name": "node-ip", "value": "10.77.0.11"]])
    }

    @Test func schedulableControlPlaneHasEmptyTaints() throws {
        var cluster = KubeSample.cluster()
        cluster.controlPlaneSchedulable = true
        let text = try KubeadmConfig.renderInit(cluster, KubeSample.controlPlane)
        #expect(text.contains("  taints: []\n"))
        let registration = try #require(try documents(text)[0]["nodeRegistration"] as? [String: Any])
        #expect((registration["taints"] as? [Any])?.isEmpty == true)
    }

    @Test(arguments: [
        ("1.30.9", KubeError.kubernetesTooOld("1.30.9"))
    ])
    func oldKubernetesIsRejected(version: String, error: KubeError) throws {
        var cluster = KubeSample.cluster()
        cluster.kubernetesVersion = try KubernetesVersion(version)
        #expect(throws: error) { try cluster.validate() }
    }

    @Test func badInputsAreRejectedWithClearMessages() throws {
        #expect(throws: KubeError.invalidKubernetesVersion("1.33")) { try KubernetesVersion("1.33") }
        #expect(try KubernetesVersion("v1.33.1").tag == "v1.33.1")

        var cluster = KubeSample.cluster()
        cluster.bootstrapToken = "ABCDEF.0123456789abcdef"
        #expect(throws: KubeError.invalidBootstrapToken) { try cluster.validate() }

        cluster = KubeSample.cluster()
        cluster.discoveryHash = "sha256:xyz"
        #expect(throws: KubeError.invalidDiscoveryHash("sha256:xyz")) { try cluster.validate() }

        cluster = KubeSample.cluster()
        cluster.controlPlaneEndpoint = "10.77.0.10"
        #expect(throws: KubeError.invalidEndpoint("10.77.0.10")) { try cluster.validate() }

        cluster = KubeSample.cluster()
        cluster.podSubnet = "10.244.0.0/33"
        #expect(throws: KubeError.invalidAddress(field: "pod subnet", value: "10.244.0.0/33")) {
            try cluster.validate()
        }

        cluster = KubeSample.cluster(kubelet: KubeletTuning(cpuManagerPolicy: .static))
        let error = #expect(throws: KubeError.self) { try cluster.validate() }
        #expect(error?.description.contains("reservedSystemCPUs") == true)

        cluster = KubeSample.cluster(kubelet: KubeletTuning(reservedSystemCPUs: "3-1"))
        #expect(throws: KubeError.invalidCPUSet("3-1")) { try cluster.validate() }

        cluster = KubeSample.cluster()
        cluster.kubernetes.kubeadm.sha256 = "ABC"
        #expect(throws: KubeError.invalidSHA256(artifact: "kubeadm", value: "ABC")) { try cluster.validate() }

        cluster = KubeSample.cluster()
        cluster.kubernetes.kubelet.url = "https://dl.k8s.io/a b"
        #expect(throws: KubeError.invalidArtifactURL("https://dl.k8s.io/a b")) { try cluster.validate() }

        #expect(throws: KubeError.invalidNodeName("Worker_0")) {
            try NodeSpec(name: "Worker_0", ip: "10.0.0.1", role: .worker).validate()
        }
        #expect(throws: KubeError.invalidAddress(field: "node IP", value: "10.0.0.256")) {
            try NodeSpec(name: "w", ip: "10.0.0.256", role: .worker).validate()
        }
        #expect(throws: KubeError.missingCAKey) {
            try NodeSpec(name: "cp", ip: "10.0.0.1", role: .controlPlane(caKeyPEM: "")).validate()
        }
    }
}
