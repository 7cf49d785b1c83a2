import Foundation

/// Maps the topology's clusters onto node bootstrap renderings (kubeadm, containerd,
/// runtimes), so that every VM's seed carries its whole bootstrap.
public enum ClusterPlanner {
    /// - Parameter mirrors: cluster → base URL of nestlab's artifact mirror on the lab network
    ///   (only for clusters whose every artifact is pinned and cached).
    public static func plan(
        lab: Lab, material: [String: ClusterMaterial], lock: LockFile?,
        mirrors: [String: String] = [:]
    ) throws -> [PlannedCluster] {
        let t = lab.topology
        var out: [PlannedCluster] = []
        for c in t.clusters {
            guard let mat = material[c.name] else { throw ClusterPlanError.missingMaterial(cluster: c.name) }
            guard case .resolved(let kv) = Versions.resolveKubernetes(c.kubernetes) else { continue }
            let version = try KubernetesVersion(kv)
            let refs = try members(of: c, in: lab)
            guard let cpRef = refs.first(where: { $0.1 }) else { continue }
            let endpoint = "\(cpRef.3):6443"

            var artifacts = Artifacts(lock: lock)
            let k8s = KubernetesArtifacts(
                kubeadm: artifacts.add(ArtifactCatalog.kubernetes("kubeadm", version: kv)),
                kubelet: artifacts.add(ArtifactCatalog.kubernetes("kubelet", version: kv)),
                kubectl: artifacts.add(ArtifactCatalog.kubernetes("kubectl", version: kv)),
                crictl: artifacts.add(ArtifactCatalog.crictl(kubernetes: kv)))
            let cniVersion = c.cniVersion ?? (c.cni == .flannel ? Versions.flannel : Versions.calico)
            let cni = CNISpec(
                kind: c.cni == .flannel ? .flannel : .calico, version: cniVersion,
                manifest: artifacts.add(ArtifactCatalog.cni(c.cni, version: cniVersion)))
            let containerd = containerdSource(c, refs, &artifacts)
            let runtimes = runtimeSet(c, refs, &artifacts)
            let kubelet = KubeletTuning(
                cpuManagerPolicy: c.cpuManagerPolicy == .static ? .static : .none,
                reservedSystemCPUs: c.reservedCPUs?.description,
                topologyManagerPolicy: KubeletTuning.TopologyManagerPolicy(rawValue: c.topologyManagerPolicy.rawValue)
                    ?? .none)
            let spec = ClusterSpec(
                name: c.name, kubernetesVersion: version, controlPlaneEndpoint: endpoint,
                podSubnet: c.podCIDR.description, serviceSubnet: c.serviceCIDR.description, cni: cni,
                bootstrapToken: mat.token, caCertificatePEM: mat.caCertificatePEM, discoveryHash: mat.discoveryHash,
                kubernetes: k8s, containerd: containerd, kubelet: kubelet, runtimes: runtimes,
                mirrorBaseURL: mirrors[c.name], expectedNodeCount: refs.count,
                controlPlaneSchedulable: c.workers.isEmpty)
            try spec.validate()
            let nodes = try bootstrap(refs, spec: spec, material: mat)
            out.append(
                PlannedCluster(
                    cluster: c, spec: spec, nodes: nodes, artifacts: artifacts.refs,
                    apiServer: "https://\(endpoint)"))
        }
        return out
    }

    /// A cluster node: its name, whether it is the control plane, what it is, and its address.
    private typealias NodeEntry = (String, Bool, ClusterNode.Kind, String)

    /// The artifacts a cluster downloads, in the order they are first named.
    private struct Artifacts {
        let lock: LockFile?
        var refs: [ArtifactRef] = []

        init(lock: LockFile?) { self.lock = lock }

        mutating func add(_ r: ArtifactRef) -> Artifact {
            refs.append(r)
            return Artifact(url: r.url, sha256: ArtifactCatalog.digest(r, lock: lock))
        }
    }

    /// A cluster's nodes in order: control plane first.
    private static func members(of c: Cluster, in lab: Lab) throws -> [NodeEntry] {
        var refs: [NodeEntry] = []
        for (ref, cp) in c.controlPlane.map({ ($0, true) }) + c.workers.map({ ($0, false) }) {
            switch ref {
            case .host(let h):
                guard let host = lab.topology.host(named: h), let addr = host.address else { continue }
                refs.append((h, cp, .host(host), addr.description))
            case .machine(let m):
                for inst in lab.machines where inst.group == m || inst.name == m {
                    guard let a = inst.primaryAddress else { throw ClusterPlanError.noAddress(node: inst.name) }
                    refs.append((inst.name, cp, .vm(inst), a.description))
                }
            }
        }
        return refs
    }

    /// containerd: the distribution's (1.6 on Debian 12, 1.7 on Ubuntu) or a pinned 2.x release.
    private static func containerdSource(_ c: Cluster, _ refs: [NodeEntry], _ artifacts: inout Artifacts)
        -> ContainerdSource
    {
        if c.containerd == "distro" {
            let os: NodeOS = {
                switch refs.first?.2 {
                case .vm(let m)?: return m.image.os
                case .host(let h)?: return h.os
                case nil: return .debian12
                }
            }()
            return .distro(os == .debian12 ? .debian12 : .ubuntu)
        }
        let parts = c.containerd.split(separator: ".").compactMap { Int($0) }
        let (tar, runc) = ArtifactCatalog.containerd(c.containerd)
        return .release(
            version: ContainerdVersion(parts.first ?? 2, parts.count > 1 ? parts[1] : 0),
            tarball: artifacts.add(tar), runc: artifacts.add(runc))
    }

    /// The runtimes a cluster installs besides runc.
    private static func runtimeSet(_ c: Cluster, _ refs: [NodeEntry], _ artifacts: inout Artifacts) -> RuntimeSet {
        var runtimes = RuntimeSet()
        var anyVMWithoutKVM = false
        for r in refs { if case .vm(let m) = r.2, !m.profile.nested || m.accel != .kvm { anyVMWithoutKVM = true } }
        for rt in c.runtimes {
            switch rt {
            case .runc: break
            case .crun: runtimes.crun = true
            case .kata(let k):
                let knobs = KataKnobs(
                    defaultVCPUs: k.defaultVCPUs, defaultMemoryMiB: Int(k.defaultMemory.mib),
                    enableHugepages: k.enableHugepages,
                    sharedFS: KataSharedFS(rawValue: k.sharedFS.rawValue) ?? .virtioFS,
                    virtioFSCache: KataVirtioFSCache(rawValue: k.virtioFSCache) ?? .auto)
                runtimes.kata = KataSpec(
                    version: k.version, tarball: artifacts.add(ArtifactCatalog.kata(k.version)),
                    hypervisors: k.hypervisors.compactMap { KataHypervisor(rawValue: $0.rawValue) }, knobs: knobs)
            case .urunc(let u):
                runtimes.urunc = uruncSpec(u, &artifacts)
            case .kubevirt(let kvo):
                let emulate = kvo.emulation == .on || (kvo.emulation == .auto && anyVMWithoutKVM)
                runtimes.kubevirt = KubeVirtSpec(
                    version: kvo.version, operatorManifest: artifacts.add(ArtifactCatalog.kubevirt(kvo.version)),
                    useEmulation: emulate)
            }
        }
        return runtimes
    }

    /// urunc with its monitors (whose artifacts come before urunc's own) and its devmapper pool.
    private static func uruncSpec(_ u: UruncOptions, _ artifacts: inout Artifacts) -> UruncSpec {
        let (ur, shim) = ArtifactCatalog.urunc(u.version)
        var monitors: [UruncMonitor] = []
        for m in u.monitors {
            switch m {
            case .qemu: monitors.append(.qemu)
            case .firecracker:
                let (fc, member) = ArtifactCatalog.firecracker(Versions.firecracker)
                monitors.append(.firecracker(artifacts.add(fc), member: member))
            case .solo5Hvt, .solo5Spt: break  // refused by the parser
            }
        }
        var pool = DevmapperPool()
        pool.dataSize = "\(u.thinPoolSize.gib)G"
        return UruncSpec(
            version: u.version, urunc: artifacts.add(ur), shim: artifacts.add(shim), monitors: monitors, pool: pool)
    }

    /// Each node's bootstrap, rendered.
    private static func bootstrap(_ refs: [NodeEntry], spec: ClusterSpec, material mat: ClusterMaterial) throws
        -> [ClusterNode]
    {
        var nodes: [ClusterNode] = []
        for (name, cp, kind, addr) in refs {
            var hint: String?
            if case .vm(let m) = kind {
                hint =
                    "give machine '\(m.group)' a profile with cpu.nested: true (profile '\(m.profile.name)' has none), and accel: kvm"
            }
            let node = NodeSpec(
                name: name, ip: addr, role: cp ? .controlPlane(caKeyPEM: mat.caKeyPEM) : .worker,
                extraCertSANs: [], kvmMissingHint: hint)
            let b = try NodeBootstrapRenderer.render(cluster: spec, node: node)
            nodes.append(ClusterNode(name: name, address: addr, kind: kind, isControlPlane: cp, bootstrap: b))
        }
        return nodes
    }

    /// The cloud-init payload of each VM node: its files and one entry command.
    public static func payloads(_ clusters: [PlannedCluster]) -> [String: GuestPayload] {
        var out: [String: GuestPayload] = [:]
        for c in clusters {
            for n in c.nodes {
                guard case .vm = n.kind else { continue }
                let files = n.bootstrap.files.map { f in
                    GuestFile(
                        path: f.path, mode: f.octalMode, content: Data(f.content),
                        secret: f.mode & 0o077 == 0)
                }
                out[n.name] = GuestPayload(files: files, commands: [n.bootstrap.entryCommand])
            }
        }
        return out
    }
}
