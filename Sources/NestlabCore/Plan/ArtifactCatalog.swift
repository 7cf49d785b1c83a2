import Foundation

/// The artifacts a topology's clusters need, at their pinned versions.
public enum ArtifactCatalog {
    /// The digest a node uses: the lock file's, or `upstream` (verify against the published
    /// `.sha256`), or `unpinned` (the node refuses it until `nestlab cache fetch` pins it).
    public static func digest(_ a: ArtifactRef, lock: LockFile?) -> String {
        if let e = lock?.entry(a.name), e.url == a.url { return e.sha256 }
        return a.upstreamChecksum ? Artifact.upstreamDigest : Artifact.unpinnedDigest
    }

    public static func kubernetes(_ binary: String, version: String) -> ArtifactRef {
        ArtifactRef(
            name: "kubernetes/\(binary)@\(version)",
            url: "https://dl.k8s.io/release/v\(version)/bin/linux/amd64/\(binary)", upstreamChecksum: true)
    }

    /// cri-tools follows Kubernetes minors: crictl v1.33.0 for Kubernetes 1.33.
    public static func crictl(kubernetes version: String) -> ArtifactRef {
        let minor = version.split(separator: ".").prefix(2).joined(separator: ".")
        let v = "v\(minor).0"
        return ArtifactRef(
            name: "cri-tools/crictl@\(v)",
            url: "https://github.com/kubernetes-sigs/cri-tools/releases/download/\(v)/crictl-\(v)-linux-amd64.tar.gz",
            upstreamChecksum: true)
    }

    public static func cni(_ kind: Cluster.CNI, version: String) -> ArtifactRef {
        switch kind {
        case .flannel:
            return ArtifactRef(
                name: "flannel/kube-flannel.yml@\(version)",
                url: "https://github.com/flannel-io/flannel/releases/download/\(version)/kube-flannel.yml",
                upstreamChecksum: false)
        case .calico:
            return ArtifactRef(
                name: "calico/calico.yaml@\(version)",
                url: "https://raw.githubusercontent.com/projectcalico/calico/\(version)/manifests/calico.yaml",
                upstreamChecksum: false)
        }
    }

    public static func containerd(_ version: String) -> (tarball: ArtifactRef, runc: ArtifactRef) {
        (
            ArtifactRef(
                name: "containerd@\(version)",
                url:
                    "https://github.com/containerd/containerd/releases/download/v\(version)/containerd-\(version)-linux-amd64.tar.gz",
                upstreamChecksum: false),
            ArtifactRef(
                name: "runc@\(Versions.runc)",
                url: "https://github.com/opencontainers/runc/releases/download/v\(Versions.runc)/runc.amd64",
                upstreamChecksum: false)
        )
    }

    public static func kata(_ version: String) -> ArtifactRef {
        let ext = version.hasPrefix("3.") ? "tar.xz" : "tar.zst"
        return ArtifactRef(
            name: "kata/kata-static@\(version)",
            url:
                "https://github.com/kata-containers/kata-containers/releases/download/\(version)/kata-static-\(version)-amd64.\(ext)",
            upstreamChecksum: false)
    }

    /// urunc's static release binaries; releases name them `urunc_static_vX.Y.Z_amd64`
    /// (urunc.io installation guide; older releases omitted the version).
    public static func urunc(_ version: String) -> (urunc: ArtifactRef, shim: ArtifactRef) {
        let v = version.hasPrefix("v") ? version : "v\(version)"
        let base = "https://github.com/urunc-dev/urunc/releases/download/\(v)"
        return (
            ArtifactRef(name: "urunc/urunc@\(v)", url: "\(base)/urunc_static_\(v)_amd64", upstreamChecksum: false),
            ArtifactRef(
                name: "urunc/containerd-shim-urunc-v2@\(v)", url: "\(base)/containerd-shim-urunc-v2_static_\(v)_amd64",
                upstreamChecksum: false)
        )
    }

    public static func firecracker(_ version: String) -> (ArtifactRef, member: String) {
        (
            ArtifactRef(
                name: "firecracker@\(version)",
                url:
                    "https://github.com/firecracker-microvm/firecracker/releases/download/\(version)/firecracker-\(version)-x86_64.tgz",
                upstreamChecksum: false),
            "release-\(version)-x86_64/firecracker-\(version)-x86_64"
        )
    }

    /// Every artifact a cluster's nodes download, for `cache fetch` and the lock file.
    public static func refs(for c: Cluster) -> [ArtifactRef] {
        guard case .resolved(let kv) = Versions.resolveKubernetes(c.kubernetes) else { return [] }
        var out = ["kubeadm", "kubelet", "kubectl"].map { kubernetes($0, version: kv) }
        out.append(crictl(kubernetes: kv))
        out.append(cni(c.cni, version: c.cniVersion ?? (c.cni == .flannel ? Versions.flannel : Versions.calico)))
        if c.containerd != "distro" {
            let (t, r) = containerd(c.containerd)
            out += [t, r]
        }
        for rt in c.runtimes {
            switch rt {
            case .kata(let k): out.append(kata(k.version))
            case .urunc(let u):
                let (a, b) = urunc(u.version)
                out += [a, b]
                if u.monitors.contains(.firecracker) { out.append(firecracker(Versions.firecracker).0) }
            case .kubevirt(let k): out.append(kubevirt(k.version))
            case .runc, .crun: break
            }
        }
        return out
    }

    /// The lock-file name of a topology image.
    public static func imageName(_ image: String) -> String { "image/\(image)" }

    public static func kubevirt(_ version: String) -> ArtifactRef {
        ArtifactRef(
            name: "kubevirt/kubevirt-operator.yaml@\(version)",
            url: "https://github.com/kubevirt/kubevirt/releases/download/\(version)/kubevirt-operator.yaml",
            upstreamChecksum: false)
    }
}
