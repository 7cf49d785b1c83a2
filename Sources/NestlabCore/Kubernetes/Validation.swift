// Checks on the bootstrap inputs, done before anything is rendered so that a bad
// value never reaches a node.

extension ClusterSpec {
    /// Checks every field a renderer relies on; throws the first problem found.
    public func validate() throws {
        guard kubernetesVersion >= KubernetesVersion(major: 1, minor: 31, patch: 0) else {
            throw KubeError.kubernetesTooOld(kubernetesVersion.description)
        }
        try Self.validateToken(bootstrapToken)
        let hashHex = discoveryHash.dropFirst("sha256:".count)
        guard discoveryHash.hasPrefix("sha256:"), hashHex.count == 64,
            hashHex.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) })
        else { throw KubeError.invalidDiscoveryHash(discoveryHash) }
        let endpoint = controlPlaneEndpoint.split(separator: ":", omittingEmptySubsequences: false)
        guard endpoint.count == 2, !endpoint[0].isEmpty, let port = Int(endpoint[1]), (1...65535).contains(port)
        else { throw KubeError.invalidEndpoint(controlPlaneEndpoint) }
        guard (try? IPv4Network.parse(podSubnet).get()) != nil else {
            throw KubeError.invalidAddress(field: "pod subnet", value: podSubnet)
        }
        guard (try? IPv4Network.parse(serviceSubnet).get()) != nil else {
            throw KubeError.invalidAddress(field: "service subnet", value: serviceSubnet)
        }
        try kubernetes.kubeadm.validate("kubeadm")
        try kubernetes.kubelet.validate("kubelet")
        try kubernetes.kubectl.validate("kubectl")
        try kubernetes.crictl.validate("crictl")
        if case .release(let plugins) = kubernetes.cniPlugins { try plugins.validate("CNI plugins") }
        try cni.manifest.validate("\(cni.kind.rawValue) manifest")
        if case .release(let version, let tarball, let runc) = containerd {
            guard version.major >= 2 else {
                throw KubeError.unsupportedCombination(
                    "a pinned containerd release must be 2.x (got \(version)); 1.x comes from the distribution")
            }
            try tarball.validate("containerd")
            try runc.validate("runc")
        }
        try kubelet.validate()
        try runtimes.validate()
        if let mirror = mirrorBaseURL {
            try Artifact(url: mirror, sha256: String(repeating: "0", count: 64)).validate("mirror")
        }
    }

    static func validateToken(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let ok =
            parts.count == 2 && parts[0].count == 6 && parts[1].count == 16
            && parts.allSatisfy {
                $0.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
            }
        guard ok else { throw KubeError.invalidBootstrapToken }
    }
}

extension NodeSpec {
    /// Checks the node's name and address.
    public func validate() throws {
        let nameOK =
            !name.isEmpty && name.count <= 253
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
            }
            && !name.hasPrefix("-") && !name.hasSuffix("-")
        guard nameOK else { throw KubeError.invalidNodeName(name) }
        guard IPv4(ip) != nil else { throw KubeError.invalidAddress(field: "node IP", value: ip) }
        if case .controlPlane(let key) = role, key.isEmpty { throw KubeError.missingCAKey }
    }
}

extension RuntimeSet {
    func validate() throws {
        if let kata {
            try kata.tarball.validate("kata-static")
            guard !kata.hypervisors.isEmpty else {
                throw KubeError.unsupportedCombination("kata is enabled with no hypervisor; choose qemu, clh or fc")
            }
            guard kata.knobs.defaultVCPUs >= 1, kata.knobs.defaultMemoryMiB >= 256 else {
                throw KubeError.unsupportedCombination(
                    "kata default_vcpus must be >= 1 and default_memory >= 256 MiB (got \(kata.knobs.defaultVCPUs), \(kata.knobs.defaultMemoryMiB))"
                )
            }
            if kata.hypervisors.contains(.cloudHypervisor), kata.knobs.sharedFS == .virtio9P {
                throw KubeError.unsupportedCombination(
                    "kata-clh supports shared_fs virtio-fs or none, not virtio-9p; use virtio-fs or drop clh")
            }
        }
        if let urunc {
            try urunc.urunc.validate("urunc")
            try urunc.shim.validate("containerd-shim-urunc-v2")
            for monitor in urunc.monitors {
                switch monitor {
                case .qemu: break
                case .firecracker(let a, _): try a.validate("firecracker")
                case .solo5HVT(let a): try a.validate("solo5-hvt")
                case .solo5SPT(let a): try a.validate("solo5-spt")
                }
            }
        }
        if let kubevirt { try kubevirt.operatorManifest.validate("kubevirt-operator.yaml") }
    }

}
