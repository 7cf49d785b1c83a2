import Foundation
import Spawn
import Testing

@testable import NestlabCore

/// Shared inputs and helpers of the Kube*, Runtime* and Scripts* tests.
enum KubeSample {
    static let sha = String(repeating: "ab", count: 32)
    static func artifact(_ url: String, _ fill: Character = "a") -> Artifact {
        Artifact(url: url, sha256: String(repeating: fill, count: 64))
    }

    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
    static let caKeyPEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEtest\n-----END EC PRIVATE KEY-----\n"

    static var kubernetes: KubernetesArtifacts {
        let v = try! KubernetesVersion("1.33.1")
        return KubernetesArtifacts(
            kubeadm: artifact(KubernetesArtifacts.dlK8sURL("kubeadm", version: v), "1"),
            kubelet: artifact(KubernetesArtifacts.dlK8sURL("kubelet", version: v), "2"),
            kubectl: artifact(KubernetesArtifacts.dlK8sURL("kubectl", version: v), "3"),
            crictl: artifact(
                "https://github.com/kubernetes-sigs/cri-tools/releases/download/v1.33.0/crictl-v1.33.0-linux-amd64.tar.gz",
                "4"))
    }

    static var flannel: CNISpec {
        CNISpec(
            kind: .flannel, version: "v0.26.7",
            manifest: artifact("https://github.com/flannel-io/flannel/releases/download/v0.26.7/kube-flannel.yml", "5"))
    }

    /// A plain cluster: runc only, Debian's containerd.
    static func cluster(
        runtimes: RuntimeSet = RuntimeSet(), containerd: ContainerdSource = .distro(.debian12),
        kubelet: KubeletTuning = KubeletTuning()
    ) -> ClusterSpec {
        ClusterSpec(
            name: "nested", kubernetesVersion: try! KubernetesVersion("1.33.1"),
            controlPlaneEndpoint: "10.77.0.10:6443", cni: flannel,
            bootstrapToken: "abcdef.0123456789abcdef", caCertificatePEM: caPEM,
            discoveryHash: "sha256:" + String(repeating: "0f", count: 32),
            kubernetes: kubernetes, containerd: containerd, kubelet: kubelet, runtimes: runtimes,
            expectedNodeCount: 3)
    }

    static var allRuntimes: RuntimeSet {
        RuntimeSet(
            crun: true,
            kata: KataSpec(
                version: "3.20.0",
                tarball: artifact(
                    "https://github.com/kata-containers/kata-containers/releases/download/3.20.0/kata-static-3.20.0-amd64.tar.xz",
                    "6"),
                hypervisors: [.qemu, .cloudHypervisor, .firecracker],
                knobs: KataKnobs(
                    defaultVCPUs: 2, defaultMemoryMiB: 4096, enableHugepages: true,
                    sharedFS: .virtioFS, virtioFSCache: .never)),
            urunc: UruncSpec(
                version: "0.6.0",
                urunc: artifact("https://github.com/urunc-dev/urunc/releases/download/v0.6.0/urunc_static_amd64", "7"),
                shim: artifact(
                    "https://github.com/urunc-dev/urunc/releases/download/v0.6.0/containerd-shim-urunc-v2_static_amd64",
                    "8"),
                monitors: [
                    .qemu,
                    .firecracker(
                        artifact(
                            "https://github.com/firecracker-microvm/firecracker/releases/download/v1.7.0/firecracker-v1.7.0-x86_64.tgz",
                            "9"),
                        member: "release-v1.7.0-x86_64/firecracker-v1.7.0-x86_64"),
                    .solo5SPT(artifact("https://mirror.example/solo5-spt", "c")),
                ]),
            kubevirt: KubeVirtSpec(
                version: "v1.6.0",
                operatorManifest: artifact(
                    "https://github.com/kubevirt/kubevirt/releases/download/v1.6.0/kubevirt-operator.yaml", "d"),
                useEmulation: true))
    }

    static let tunedKubelet = KubeletTuning(
        cpuManagerPolicy: .static, reservedSystemCPUs: "0-1",
        topologyManagerPolicy: .singleNUMANode)

    static let controlPlane = NodeSpec(name: "cp", ip: "10.77.0.10", role: .controlPlane(caKeyPEM: caKeyPEM))
    static let worker = NodeSpec(name: "worker-0", ip: "10.77.0.11", role: .worker)
}

/// Runs a program and collects its output (stderr through a file, so large output cannot deadlock).
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runProcess(
    _ argv: [String], stdin: String? = nil, environment: [String: String]? = nil,
    currentDirectory: String? = nil
) throws -> ProcessResult {
    let r = try SpawnedProcess.run(
        argv, input: stdin.map { Data($0.utf8) }, environment: environment, directory: currentDirectory)
    return ProcessResult(status: r.status, stdout: r.output, stderr: r.errors)
}

/// A fresh scratch directory, removed by the caller.
func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-kube-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Compares `actual` with a golden file under Fixtures/golden; NESTLAB_UPDATE_GOLDEN=1 rewrites it.
func expectGolden(
    _ actual: String, _ relativePath: String, sourceLocation: SourceLocation = #_sourceLocation,
    filePath: String = #filePath
) throws {
    let fixtures = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden")
    let url = fixtures.appendingPathComponent(relativePath)
    if ProcessInfo.processInfo.environment["NESTLAB_UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(actual.utf8).write(to: url)
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(actual == expected, "rendered output differs from golden \(relativePath)", sourceLocation: sourceLocation)
}

/// The directory of the node scripts in the source tree.
func scriptsDirectory(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/NestlabCore/Resources/cloud-init")
}
