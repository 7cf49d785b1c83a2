import Foundation
import Testing

@testable import NestlabCore

@Suite("node bootstrap")
struct KubeBootstrapTests {
    @Test func controlPlaneGetsInitCAAndManifests() throws {
        let cluster = KubeSample.cluster(
            runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu),
            kubelet: KubeSample.tunedKubelet)
        let boot = try NodeBootstrapRenderer.render(cluster: cluster, node: KubeSample.controlPlane)
        #expect(
            boot.commands == [
                ["/usr/local/lib/nestlab/node-prep.sh"], ["/usr/local/lib/nestlab/kata.sh"],
                ["/usr/local/lib/nestlab/urunc.sh"],
                ["/usr/local/lib/nestlab/control-plane.sh"], ["/usr/local/lib/nestlab/kubevirt.sh"],
                ["/usr/local/lib/nestlab/smoke-test.sh"],
            ])
        #expect(
            boot.entryCommand == [
                "/usr/local/lib/nestlab/bootstrap.sh", "node-prep.sh", "kata.sh", "urunc.sh",
                "control-plane.sh", "kubevirt.sh", "smoke-test.sh",
            ])
        let paths = boot.files.map(\.path)
        #expect(Set(paths).count == paths.count, "no path is written twice")
        for command in boot.commands { #expect(paths.contains(command[0])) }
        #expect(paths.contains("/usr/local/lib/nestlab/lib.sh"))
        #expect(!paths.contains("/usr/local/lib/nestlab/join.sh"))
        // Secrets are 0600.
        for secret in [NodePaths.env, NodePaths.kubeadmInit, NodePaths.caKey] {
            #expect(boot.file(at: secret)?.mode == 0o600, "\(secret)")
        }
        #expect(boot.file(at: NodePaths.caCert)?.text == KubeSample.caPEM)
        #expect(boot.file(at: NodePaths.caKey)?.text == KubeSample.caKeyPEM)
        #expect(boot.file(at: "/usr/local/lib/nestlab/node-prep.sh")?.mode == 0o755)
        #expect(boot.file(at: "/usr/local/lib/nestlab/lib.sh")?.octalMode == "0644")
        // The scripts on the node are the package resources, byte for byte.
        let script = try Data(contentsOf: scriptsDirectory().appendingPathComponent("node-prep.sh"))
        #expect(boot.file(at: "/usr/local/lib/nestlab/node-prep.sh")?.content == [UInt8](script))
        #expect(
            boot.file(at: NodePaths.kubeadmInit)?.text
                == (try KubeadmConfig.renderInit(cluster, KubeSample.controlPlane)))
        #expect(
            boot.clusterManifests.map(\.path) == [
                "/etc/nestlab/manifests/runtimeclasses.yaml", "/etc/nestlab/manifests/kubevirt-cr.yaml",
                "/etc/nestlab/manifests/smoke/runc.yaml", "/etc/nestlab/manifests/smoke/crun.yaml",
                "/etc/nestlab/manifests/smoke/kata-qemu.yaml", "/etc/nestlab/manifests/smoke/kata-clh.yaml",
                "/etc/nestlab/manifests/smoke/kata-fc.yaml", "/etc/nestlab/manifests/smoke/urunc.yaml",
                "/etc/nestlab/manifests/smoke/kubevirt.yaml", "/etc/nestlab/manifests/smoke/tests.tsv",
            ])
        try expectGolden(
            try #require(boot.file(at: "/etc/nestlab/manifests/smoke/tests.tsv")).text, "kube/smoke-tests.tsv")
        try expectGolden(try #require(boot.file(at: NodePaths.env)).text, "kube/node-env-control-plane.env")
        try expectGolden(
            try #require(boot.file(at: "/etc/nestlab/artifacts/urunc.tsv")).text, "kube/artifacts-urunc.tsv")
        try expectGolden(try #require(boot.file(at: "/etc/nestlab/kata/qemu.knobs")).text, "kube/kata-qemu.knobs")
        #expect(
            boot.file(at: "/etc/nestlab/kata/fc.knobs")?.text
                == "# [hypervisor.firecracker] settings nestlab applies\ndefault_vcpus = 2\ndefault_memory = 4096\nenable_hugepages = true\n"
        )
        #expect(
            boot.file(at: "/etc/modules-load.d/nestlab.conf")?.text
                == "# kernel modules nestlab needs at boot\noverlay\nbr_netfilter\nvhost\nvhost_net\nvhost_vsock\ndm_thin_pool\n"
        )
        #expect(boot.phases.first == "kernel-modules")
        #expect(boot.phases.suffix(2) == ["smoke-test", "bootstrap"])
        #expect(boot.phases.contains("kubernetes-binaries") && boot.phases.contains("smoke-kata-fc"))
        #expect(boot.smokeTests.count == 7)
    }

    @Test func workerJoinsAndHoldsNoClusterSecrets() throws {
        let boot = try NodeBootstrapRenderer.render(cluster: KubeSample.cluster(), node: KubeSample.worker)
        #expect(boot.commands == [["/usr/local/lib/nestlab/node-prep.sh"], ["/usr/local/lib/nestlab/join.sh"]])
        let paths = Set(boot.files.map(\.path))
        #expect(paths.contains(NodePaths.kubeadmJoin))
        #expect(boot.file(at: NodePaths.kubeadmJoin)?.mode == 0o600)
        for absent in [
            NodePaths.caKey, NodePaths.caCert, NodePaths.kubeadmInit, "/etc/nestlab/artifacts/cni.tsv",
            "/usr/local/lib/nestlab/kata.sh", "/etc/systemd/system/nestlab-devmapper.service",
            "/etc/systemd/system/containerd.service",
        ] {
            #expect(!paths.contains(absent), "\(absent)")
        }
        #expect(boot.clusterManifests.isEmpty && boot.smokeTests.isEmpty)
        #expect(boot.phases.suffix(3) == ["kubeadm-join", "join", "bootstrap"])
        #expect(boot.entryCommand == ["/usr/local/lib/nestlab/bootstrap.sh", "node-prep.sh", "join.sh"])
        let env = try #require(boot.file(at: NodePaths.env)).text
        #expect(env.contains("NESTLAB_ROLE='worker'\n"))
        #expect(env.contains("NESTLAB_NEEDS_KVM='0'\n"))
        #expect(env.contains("NESTLAB_CONTAINERD_SOURCE='distro'\n"))
    }

    @Test func artifactListsUseMirrorWhenGiven() throws {
        var cluster = KubeSample.cluster(
            containerd: .release(
                version: ContainerdVersion(2, 1),
                tarball: KubeSample.artifact(
                    "https://github.com/containerd/containerd/releases/download/v2.1.4/containerd-2.1.4-linux-amd64.tar.gz",
                    "e"),
                runc: KubeSample.artifact(
                    "https://github.com/opencontainers/runc/releases/download/v1.3.0/runc.amd64", "f")))
        cluster.kubernetes.cniPlugins = .release(
            KubeSample.artifact(
                "https://github.com/containernetworking/plugins/releases/download/v1.7.1/cni-plugins-linux-amd64-v1.7.1.tgz",
                "b"))
        cluster.mirrorBaseURL = "http://10.77.0.1:8790/"
        let boot = try NodeBootstrapRenderer.render(cluster: cluster, node: KubeSample.worker)
        let kubernetes = try #require(boot.file(at: "/etc/nestlab/artifacts/kubernetes.tsv")).text
        try expectGolden(kubernetes, "kube/artifacts-kubernetes-mirror.tsv")
        let lines = kubernetes.split(separator: "\n").dropFirst().map {
            $0.split(separator: "\t", omittingEmptySubsequences: false)
        }
        #expect(lines.count == 5)
        #expect(lines.allSatisfy { $0.count == 6 })
        #expect(lines[0][0] == "http://10.77.0.1:8790/" + String(repeating: "1", count: 64) + "/kubeadm")
        #expect(lines[3][2] == "member" && lines[3][4] == "crictl")
        #expect(lines[4][2] == "extract" && lines[4][3] == "/opt/cni/bin")
        #expect(
            boot.file(at: "/etc/nestlab/artifacts/containerd.tsv")?.text.contains("\textract\t/usr/local\t0\t-\n")
                == true)
        #expect(
            boot.file(at: "/etc/systemd/system/containerd.service")?.text.contains(
                "ExecStart=/usr/local/bin/containerd\n") == true)
        let env = try #require(boot.file(at: NodePaths.env)).text
        #expect(
            env.contains("NESTLAB_CONTAINERD_SOURCE='release'\n") && env.contains("NESTLAB_CNI_PLUGINS='release'\n"))
        #expect(boot.file(at: NodePaths.containerdConfig)?.text.contains("version = 3\n") == true)
    }

    @Test func kvmNeedsAreDerivedFromRuntimes() throws {
        var runtimes = RuntimeSet()
        runtimes.urunc = UruncSpec(
            version: "0.6.0", urunc: KubeSample.artifact("https://x.example/urunc"),
            shim: KubeSample.artifact("https://x.example/shim"),
            monitors: [.solo5SPT(KubeSample.artifact("https://x.example/spt"))])
        let env = try NodeBootstrapRenderer.env(
            KubeSample.cluster(runtimes: runtimes, containerd: .distro(.ubuntu)),
            KubeSample.worker)
        #expect(env["NESTLAB_NEEDS_KVM"] == "0")
        #expect(env["NESTLAB_DEVMAPPER"] == "1")
        let all = try NodeBootstrapRenderer.env(
            KubeSample.cluster(runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu)),
            KubeSample.worker)
        #expect(all["NESTLAB_NEEDS_KVM"] == "1")
        #expect(all["NESTLAB_KVM_USERS"] == "kata-qemu, kata-clh, kata-fc, urunc/qemu, urunc/firecracker")
        #expect(all["NESTLAB_NEEDS_VHOST"] == "1")
        #expect(all["NESTLAB_KVM_HINT"] == nil)
        var node = KubeSample.worker
        node.kvmMissingHint = "set profiles.tuned.cpu.nested: true for machine worker-0"
        let hinted = try NodeBootstrapRenderer.env(
            KubeSample.cluster(runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu)), node)
        #expect(hinted["NESTLAB_KVM_HINT"] == "set profiles.tuned.cpu.nested: true for machine worker-0")
    }

    @Test func resetCarriesOnlyWhatDownNeeds() throws {
        let boot = try NodeBootstrapRenderer.reset(
            cluster: KubeSample.cluster(
                runtimes: KubeSample.allRuntimes,
                containerd: .distro(.ubuntu)),
            node: KubeSample.worker)
        #expect(
            boot.files.map(\.path) == [
                "/usr/local/lib/nestlab/lib.sh", "/usr/local/lib/nestlab/node-reset.sh",
                "/usr/local/lib/nestlab/devmapper-pool.sh", NodePaths.env,
            ])
        #expect(boot.commands == [["/usr/local/lib/nestlab/node-reset.sh"]])
    }

    @Test func everyScriptIsInTheBundle() throws {
        for name in NodeScripts.all {
            let bundled = try NodeScripts.content(name)
            let source = try Data(contentsOf: scriptsDirectory().appendingPathComponent(name))
            #expect(bundled == [UInt8](source), "\(name)")
        }
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: scriptsDirectory().path).filter {
            $0.hasSuffix(".sh")
        }
        #expect(Set(onDisk) == Set(NodeScripts.all))
    }
}
