// Inputs for the runtimes beside runc. Defaults follow upstream: Kata's
// configuration-*.toml defaults, kata-deploy's RuntimeClass overhead, urunc's
// installation guide. Each field says which file or object it ends up in.

/// Which runtimes a cluster gets. runc is always there, as the default handler.
public struct RuntimeSet: Sendable, Hashable {
    /// crun as a second runc-type handler (`crun`), from the Debian package. For tests.
    public var crun: Bool
    public var kata: KataSpec?
    public var urunc: UruncSpec?
    public var kubevirt: KubeVirtSpec?
    /// Image of the smoke-test pods for runc, crun and Kata (must exit 0 quickly).
    public var smokeImage: String

    public init(
        crun: Bool = false, kata: KataSpec? = nil, urunc: UruncSpec? = nil,
        kubevirt: KubeVirtSpec? = nil,
        smokeImage: String = "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"
    ) {
        self.crun = crun
        self.kata = kata
        self.urunc = urunc
        self.kubevirt = kubevirt
        self.smokeImage = smokeImage
    }

    /// True when some handler needs the devmapper snapshotter (urunc, kata-fc).
    public var needsDevmapper: Bool {
        urunc != nil || (kata?.hypervisors.contains(.firecracker) ?? false)
    }

    /// The devmapper pool: urunc's if set, else Kata's default one.
    public var devmapperPool: DevmapperPool? {
        guard needsDevmapper else { return nil }
        return urunc?.pool ?? kata?.devmapperPool ?? DevmapperPool()
    }
}
