import Foundation

/// Renders the ``NodeBootstrap`` of a node.
public enum NodeBootstrapRenderer {
    /// Files and commands for `node` of `cluster`; `includeSmokeTests` appends smoke-test.sh
    /// to the control plane's commands.
    public static func render(cluster: ClusterSpec, node: NodeSpec, includeSmokeTests: Bool = true) throws
        -> NodeBootstrap
    {
        try cluster.validate()
        try node.validate()
        let containerd = try ContainerdConfig(
            version: cluster.containerd.version, sandboxImage: cluster.sandboxImage, runtimes: cluster.runtimes)
        var b = Builder(cluster: cluster, node: node, includeSmokeTests: includeSmokeTests)
        try b.addScripts()
        b.addArtifacts()
        b.addSystemFiles(containerd)
        b.addNodeCommands()
        if case .controlPlane(let caKey) = node.role {
            try b.addControlPlane(caKey: caKey)
        } else {
            b.files.append(
                NodeFile(path: NodePaths.kubeadmJoin, mode: 0o600, text: try KubeadmConfig.renderJoin(cluster, node)))
            b.commands.append(["\(NodePaths.scripts)/join.sh"])
            b.phases += ["kubeadm-join", "join"]
        }
        b.phases.append("bootstrap")
        let entry =
            ["\(NodePaths.scripts)/bootstrap.sh"] + b.commands.map { String($0[0].split(separator: "/").last ?? "") }
        return NodeBootstrap(
            files: b.files, commands: b.commands, entryCommand: entry, phases: b.phases,
            clusterManifests: b.manifests, smokeTests: b.smokeTests)
    }

    /// A node's bootstrap as it is put together: files, commands and phases, in order.
    private struct Builder {
        let cluster: ClusterSpec
        let node: NodeSpec
        let includeSmokeTests: Bool
        var files: [NodeFile] = []
        var commands: [[String]] = []
        var phases: [String] = []
        var manifests: [NodeFile] = []
        var smokeTests: [SmokeTest] = []

        init(cluster: ClusterSpec, node: NodeSpec, includeSmokeTests: Bool) {
            self.cluster = cluster
            self.node = node
            self.includeSmokeTests = includeSmokeTests
        }

        var runtimes: RuntimeSet { cluster.runtimes }

        /// The scripts this node runs, then its env file.
        mutating func addScripts() throws {
            var scripts = ["lib.sh", "bootstrap.sh", "node-prep.sh", "node-reset.sh"]
            if runtimes.needsDevmapper { scripts.append("devmapper-pool.sh") }
            if runtimes.kata != nil { scripts.append("kata.sh") }
            if runtimes.urunc != nil { scripts.append("urunc.sh") }
            if node.role.isControlPlane {
                scripts.append("control-plane.sh")
                if runtimes.kubevirt != nil { scripts.append("kubevirt.sh") }
                if includeSmokeTests { scripts.append("smoke-test.sh") }
            } else {
                scripts.append("join.sh")
            }
            for name in NodeScripts.all where scripts.contains(name) { files.append(try NodeScripts.file(name)) }
            files.append(
                NodeFile(path: NodePaths.env, mode: 0o600, text: try NodeBootstrapRenderer.env(cluster, node).render()))
        }

        /// An artifact list, one per script that downloads.
        mutating func list(_ group: String, _ installs: [ArtifactInstall]) {
            files.append(
                NodeFile(
                    path: "\(NodePaths.artifacts)/\(group).tsv", mode: 0o644,
                    text: ArtifactInstall.render(installs, mirror: cluster.mirrorBaseURL)))
        }

        /// The artifact lists of containerd, Kubernetes and the runtimes, with the files that go with them.
        mutating func addArtifacts() {
            if case .release(_, let tarball, let runc) = cluster.containerd {
                list(
                    "containerd",
                    [
                        ArtifactInstall(tarball, .extract(directory: "/usr/local", stripComponents: 0)),
                        ArtifactInstall(runc, .file(destination: "/usr/local/sbin/runc", mode: 0o755)),
                    ])
                files.append(
                    NodeFile(path: "/etc/systemd/system/containerd.service", mode: 0o644, text: UnitFiles.containerd))
            }
            var kubernetes = [
                ArtifactInstall(cluster.kubernetes.kubeadm, .file(destination: "/usr/bin/kubeadm", mode: 0o755)),
                ArtifactInstall(cluster.kubernetes.kubelet, .file(destination: "/usr/bin/kubelet", mode: 0o755)),
                ArtifactInstall(cluster.kubernetes.kubectl, .file(destination: "/usr/bin/kubectl", mode: 0o755)),
                ArtifactInstall(
                    cluster.kubernetes.crictl, .member("crictl", destination: "/usr/bin/crictl", mode: 0o755)),
            ]
            if case .release(let plugins) = cluster.kubernetes.cniPlugins {
                kubernetes.append(
                    ArtifactInstall(plugins, .extract(directory: ContainerdConfig.cniBinDirectory, stripComponents: 0)))
            }
            list("kubernetes", kubernetes)
            if let kata = runtimes.kata {
                list("kata", [ArtifactInstall(kata.tarball, .extract(directory: "/", stripComponents: 0))])
                for hypervisor in kata.hypervisors {
                    let lines = kata.knobs.lines(for: hypervisor).map { "\($0.key) = \(TOMLWriter.value($0.value))\n" }
                        .joined()
                    files.append(
                        NodeFile(
                            path: "\(NodePaths.kataKnobs)/\(hypervisor.rawValue).knobs", mode: 0o644,
                            text: "# [hypervisor.\(hypervisor.sectionName)] settings nestlab applies\n" + lines))
                }
            }
            if let urunc = runtimes.urunc { list("urunc", uruncInstalls(urunc)) }
            if runtimes.needsDevmapper {
                files.append(
                    NodeFile(
                        path: "/etc/systemd/system/nestlab-devmapper.service", mode: 0o644, text: UnitFiles.devmapper))
            }
        }

        /// urunc, its shim and its monitors.
        func uruncInstalls(_ urunc: UruncSpec) -> [ArtifactInstall] {
            var installs = [
                ArtifactInstall(urunc.urunc, .file(destination: "/usr/local/bin/urunc", mode: 0o755)),
                ArtifactInstall(urunc.shim, .file(destination: "/usr/local/bin/containerd-shim-urunc-v2", mode: 0o755)),
            ]
            for monitor in urunc.monitors {
                switch monitor {
                case .qemu: break
                case .firecracker(let artifact, let member):
                    installs.append(
                        ArtifactInstall(
                            artifact, .member(member, destination: "/usr/local/bin/firecracker", mode: 0o755)))
                case .solo5HVT(let artifact):
                    installs.append(
                        ArtifactInstall(artifact, .file(destination: "/usr/local/bin/solo5-hvt", mode: 0o755)))
                case .solo5SPT(let artifact):
                    installs.append(
                        ArtifactInstall(artifact, .file(destination: "/usr/local/bin/solo5-spt", mode: 0o755)))
                }
            }
            return installs
        }

        /// containerd's configuration, kernel modules, sysctl, crictl and the kubelet's units.
        mutating func addSystemFiles(_ containerd: ContainerdConfig) {
            files.append(NodeFile(path: NodePaths.containerdConfig, mode: 0o644, text: containerd.render()))
            files.append(
                NodeFile(
                    path: "/etc/modules-load.d/nestlab.conf", mode: 0o644,
                    text: "# kernel modules nestlab needs at boot\n"
                        + NodeBootstrapRenderer.modules(runtimes).map { $0 + "\n" }.joined()))
            files.append(NodeFile(path: "/etc/sysctl.d/99-nestlab.conf", mode: 0o644, text: UnitFiles.sysctl))
            files.append(NodeFile(path: "/etc/crictl.yaml", mode: 0o644, text: UnitFiles.crictl))
            files.append(NodeFile(path: "/etc/systemd/system/kubelet.service", mode: 0o644, text: UnitFiles.kubelet))
            files.append(
                NodeFile(
                    path: "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", mode: 0o644,
                    text: UnitFiles.kubeadmDropIn))
        }

        /// The commands and phases every node runs: node preparation and the runtimes.
        mutating func addNodeCommands() {
            commands = [["\(NodePaths.scripts)/node-prep.sh"]]
            phases = ["kernel-modules", "preflight", "sysctl", "swap", "base-packages", "containerd-install"]
            if runtimes.needsDevmapper { phases.append("devmapper-pool") }
            phases += [
                "containerd-config", "containerd-handlers", "kubernetes-binaries", "cni-plugins", "kubelet-service",
                "node-prep",
            ]
            if runtimes.kata != nil {
                commands.append(["\(NodePaths.scripts)/kata.sh"])
                phases += ["kata-install", "kata-config", "kata"]
            }
            if runtimes.urunc != nil {
                commands.append(["\(NodePaths.scripts)/urunc.sh"])
                phases += ["urunc-install", "urunc"]
            }
        }

        /// The control plane's kubeadm init, CA, CNI, runtime classes, KubeVirt and smoke tests.
        mutating func addControlPlane(caKey: String) throws {
            files.append(
                NodeFile(path: NodePaths.kubeadmInit, mode: 0o600, text: try KubeadmConfig.renderInit(cluster, node)))
            files.append(NodeFile(path: NodePaths.caCert, mode: 0o644, text: cluster.caCertificatePEM))
            files.append(NodeFile(path: NodePaths.caKey, mode: 0o600, text: caKey))
            list(
                "cni",
                [ArtifactInstall(cluster.cni.manifest, .file(destination: "\(NodePaths.state)/cni.yaml", mode: 0o644))])
            let classes = ClusterManifests.runtimeClasses(cluster)
            if !classes.isEmpty {
                manifests.append(
                    NodeFile(
                        path: "\(NodePaths.manifests)/runtimeclasses.yaml", mode: 0o644,
                        text: try YAMLBuilder.render(classes)))
            }
            commands.append(["\(NodePaths.scripts)/control-plane.sh"])
            phases += ["pki", "kubeadm-init", "kubeconfig", "cni"]
            if !classes.isEmpty { phases.append("runtime-classes") }
            phases.append("control-plane")
            try addKubeVirt()
            if includeSmokeTests { try addSmokeTests() }
            files += manifests
        }

        /// KubeVirt's operator and custom resource, when the cluster runs KubeVirt.
        mutating func addKubeVirt() throws {
            guard let kubevirt = runtimes.kubevirt, let cr = ClusterManifests.kubevirtCR(cluster) else { return }
            list(
                "kubevirt",
                [
                    ArtifactInstall(
                        kubevirt.operatorManifest,
                        .file(destination: "\(NodePaths.state)/kubevirt-operator.yaml", mode: 0o644))
                ])
            manifests.append(
                NodeFile(
                    path: "\(NodePaths.manifests)/kubevirt-cr.yaml", mode: 0o644,
                    text: try YAMLBuilder.render([cr])))
            commands.append(["\(NodePaths.scripts)/kubevirt.sh"])
            phases += ["kubevirt-operator", "kubevirt-cr", "kubevirt-available", "kubevirt"]
        }

        /// The smoke tests' manifests and their table.
        mutating func addSmokeTests() throws {
            smokeTests = try ClusterManifests.smokeTests(cluster)
            var table = "# runtime\tkind\tname\tnamespace\texpect\tfile\n"
            for test in smokeTests {
                manifests.append(
                    NodeFile(path: "\(NodePaths.smoke)/\(test.fileName)", mode: 0o644, text: test.manifest))
                table +=
                    [test.runtime, test.kind, test.name, test.namespace, test.expectation.rawValue, test.fileName]
                    .joined(separator: "\t") + "\n"
            }
            manifests.append(NodeFile(path: "\(NodePaths.smoke)/tests.tsv", mode: 0o644, text: table))
            commands.append(["\(NodePaths.scripts)/smoke-test.sh"])
            phases.append("nodes-ready")
            phases += smokeTests.map { "smoke-\($0.runtime)" }
            phases.append("smoke-test")
        }
    }

    /// What `nestlab down` runs on a bare-metal host: the same env plus node-reset.sh.
    public static func reset(cluster: ClusterSpec, node: NodeSpec) throws -> NodeBootstrap {
        var files = [try NodeScripts.file("lib.sh"), try NodeScripts.file("node-reset.sh")]
        if cluster.runtimes.needsDevmapper { files.append(try NodeScripts.file("devmapper-pool.sh")) }
        files.append(NodeFile(path: NodePaths.env, mode: 0o600, text: try env(cluster, node).render()))
        return NodeBootstrap(
            files: files, commands: [["\(NodePaths.scripts)/node-reset.sh"]],
            entryCommand: ["\(NodePaths.scripts)/node-reset.sh"],
            phases: ["kubeadm-reset", "containerd-restore", "remove-files", "remove-packages", "node-reset"],
            clusterManifests: [], smokeTests: [])
    }

    /// Kernel modules: overlay and br_netfilter always; vhost for Kata; dm_thin_pool for devmapper.
    public static func modules(_ runtimes: RuntimeSet) -> [String] {
        var modules = ["overlay", "br_netfilter"]
        if runtimes.kata != nil { modules += ["vhost", "vhost_net", "vhost_vsock"] }
        if runtimes.needsDevmapper { modules.append("dm_thin_pool") }
        return modules
    }

    /// The parameters the scripts read.
    public static func env(_ cluster: ClusterSpec, _ node: NodeSpec) throws -> EnvFile {
        var env = EnvFile()
        let runtimes = cluster.runtimes
        try env.set("NESTLAB_CLUSTER", cluster.name)
        try env.set("NESTLAB_NODE_NAME", node.name)
        try env.set("NESTLAB_NODE_IP", node.ip)
        try env.set("NESTLAB_ROLE", node.role.isControlPlane ? "control-plane" : "worker")
        try env.set("NESTLAB_K8S_VERSION", cluster.kubernetesVersion.tag)
        try env.set("NESTLAB_ENDPOINT", cluster.controlPlaneEndpoint)
        try env.set("NESTLAB_POD_SUBNET", cluster.podSubnet)
        try env.set("NESTLAB_CNI", cluster.cni.kind.rawValue)
        try env.set("NESTLAB_MODULES", modules(runtimes).joined(separator: " "))
        if case .release = cluster.containerd {
            try env.set("NESTLAB_CONTAINERD_SOURCE", "release")
        } else {
            try env.set("NESTLAB_CONTAINERD_SOURCE", "distro")
        }
        if case .release = cluster.kubernetes.cniPlugins {
            try env.set("NESTLAB_CNI_PLUGINS", "release")
        } else {
            try env.set("NESTLAB_CNI_PLUGINS", "distro")
        }
        try env.set("NESTLAB_CRUN", runtimes.crun)
        var kvmUsers: [String] = []
        if let kata = runtimes.kata { kvmUsers += kata.hypervisors.map(\.handler) }
        if let urunc = runtimes.urunc { kvmUsers += urunc.monitors.filter(\.needsKVM).map { "urunc/\($0.name)" } }
        if let kubevirt = runtimes.kubevirt, !kubevirt.useEmulation { kvmUsers.append("kubevirt") }
        try env.set("NESTLAB_NEEDS_KVM", !kvmUsers.isEmpty)
        try env.set("NESTLAB_KVM_USERS", kvmUsers.joined(separator: ", "))
        if let hint = node.kvmMissingHint { try env.set("NESTLAB_KVM_HINT", hint) }
        try env.set("NESTLAB_NEEDS_VHOST", runtimes.kata != nil)
        try env.set("NESTLAB_DEVMAPPER", runtimes.needsDevmapper)
        if let pool = runtimes.devmapperPool {
            try env.set("NESTLAB_DM_POOL", pool.name)
            try env.set("NESTLAB_DM_DIR", pool.directory)
            try env.set("NESTLAB_DM_DATA_SIZE", pool.dataSize)
            try env.set("NESTLAB_DM_META_SIZE", pool.metadataSize)
        }
        if let kata = runtimes.kata {
            try env.set("NESTLAB_KATA_VERSION", kata.version)
            try env.set("NESTLAB_KATA_HYPERVISORS", kata.hypervisors.map(\.rawValue).joined(separator: " "))
            try env.set("NESTLAB_KATA_ZSTD", kata.tarball.fileName.hasSuffix(".zst"))
        }
        if let urunc = runtimes.urunc {
            try env.set("NESTLAB_URUNC_VERSION", urunc.version)
            try env.set("NESTLAB_URUNC_MONITORS", urunc.monitors.map(\.name).joined(separator: " "))
            try env.set("NESTLAB_URUNC_QEMU", urunc.monitors.contains(.qemu))
        }
        if let kubevirt = runtimes.kubevirt {
            try env.set("NESTLAB_KUBEVIRT_VERSION", kubevirt.version)
            try env.set("NESTLAB_KUBEVIRT_EMULATION", kubevirt.useEmulation)
        }
        try env.set("NESTLAB_EXPECTED_NODES", String(cluster.expectedNodeCount))
        return env
    }
}
