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

/// A Kubernetes pod overhead (`RuntimeClass.overhead.podFixed`).
public struct PodOverhead: Sendable, Hashable {
    public var memory: String
    public var cpu: String
    public init(memory: String, cpu: String) {
        self.memory = memory
        self.cpu = cpu
    }
    /// What kata-deploy's static RuntimeClass files set for every Kata class in 3.x
    /// (`tools/packaging/kata-deploy/runtimeclasses/kata-qemu.yaml`).
    public static let kataDefault = PodOverhead(memory: "160Mi", cpu: "250m")
}

/// A Kata hypervisor, one containerd handler and one RuntimeClass each.
public enum KataHypervisor: String, Sendable, Hashable, CaseIterable {
    case qemu
    case cloudHypervisor = "clh"
    case firecracker = "fc"

    /// Handler and RuntimeClass name: `kata-qemu`, `kata-clh`, `kata-fc`.
    public var handler: String { "kata-\(rawValue)" }
    /// The shipped config, `configuration-qemu.toml` etc.
    public var configFile: String { "configuration-\(rawValue).toml" }
    /// The TOML table of its hypervisor section.
    public var sectionName: String {
        switch self {
        case .qemu: return "qemu"
        case .cloudHypervisor: return "clh"
        case .firecracker: return "firecracker"
        }
    }
}

/// Kata `shared_fs`: how the container rootfs reaches the guest.
public enum KataSharedFS: String, Sendable, Hashable {
    case virtioFS = "virtio-fs"
    case virtio9P = "virtio-9p"
    case none
}

/// Kata `virtio_fs_cache` (virtiofsd `--cache`), the four modes configuration-qemu.toml.in lists.
public enum KataVirtioFSCache: String, Sendable, Hashable {
    case never, metadata, auto, always
}

/// The Kata knobs the topology sets (`[hypervisor.*]` in configuration-*.toml).
public struct KataKnobs: Sendable, Hashable {
    /// `default_vcpus`, upstream 1.
    public var defaultVCPUs: Int
    /// `default_memory` in MiB, upstream 2048.
    public var defaultMemoryMiB: Int
    /// `enable_hugepages`, upstream false. Guest RAM from hugetlbfs; pods must request hugepages.
    public var enableHugepages: Bool
    /// `shared_fs`, upstream virtio-fs. Not applied to Firecracker, which has none.
    public var sharedFS: KataSharedFS
    /// `virtio_fs_cache`, upstream auto. Only meaningful with virtio-fs.
    public var virtioFSCache: KataVirtioFSCache

    public init(
        defaultVCPUs: Int = 1, defaultMemoryMiB: Int = 2048, enableHugepages: Bool = false,
        sharedFS: KataSharedFS = .virtioFS, virtioFSCache: KataVirtioFSCache = .auto
    ) {
        self.defaultVCPUs = defaultVCPUs
        self.defaultMemoryMiB = defaultMemoryMiB
        self.enableHugepages = enableHugepages
        self.sharedFS = sharedFS
        self.virtioFSCache = virtioFSCache
    }

    /// The `key = value` lines for one hypervisor's config, in a fixed order.
    public func lines(for hypervisor: KataHypervisor) -> [(key: String, value: TOMLValue)] {
        var out: [(key: String, value: TOMLValue)] = [
            ("default_vcpus", .integer(defaultVCPUs)),
            ("default_memory", .integer(defaultMemoryMiB)),
            ("enable_hugepages", .boolean(enableHugepages)),
        ]
        if hypervisor != .firecracker {
            out.append(("shared_fs", .string(sharedFS.rawValue)))
            if sharedFS == .virtioFS { out.append(("virtio_fs_cache", .string(virtioFSCache.rawValue))) }
        }
        return out
    }
}

/// Kata Containers from the static release tarball, installed into /opt/kata.
public struct KataSpec: Sendable, Hashable {
    /// For example `3.20.0`.
    public var version: String
    /// `kata-static-VER-amd64.tar.xz` (3.x) or `.tar.zst` (4.x); it unpacks to ./opt/kata.
    public var tarball: Artifact
    /// Default `[.qemu]`.
    public var hypervisors: [KataHypervisor]
    public var knobs: KataKnobs
    /// Default 160Mi / 250m for every class.
    public var overhead: PodOverhead
    /// Pool for kata-fc when urunc does not bring one.
    public var devmapperPool: DevmapperPool?

    public init(
        version: String, tarball: Artifact, hypervisors: [KataHypervisor] = [.qemu],
        knobs: KataKnobs = KataKnobs(), overhead: PodOverhead = .kataDefault,
        devmapperPool: DevmapperPool? = nil
    ) {
        self.version = version
        self.tarball = tarball
        self.hypervisors = hypervisors
        self.knobs = knobs
        self.overhead = overhead
        self.devmapperPool = devmapperPool
    }

    /// Where the script keeps nestlab's tuned copy of each hypervisor config.
    public static let configDirectory = "/etc/kata-containers/nestlab"
    public static let shimPath = "/opt/kata/bin/containerd-shim-kata-v2"
    public static let shippedConfigDirectory = "/opt/kata/share/defaults/kata-containers"
    /// Node label set through the kubelet, matched by the RuntimeClass nodeSelector (as kata-deploy labels).
    public static let nodeLabel = (key: "katacontainers.io/kata-runtime", value: "true")
}

/// The devmapper thin pool on loop-backed sparse files.
public struct DevmapperPool: Sendable, Hashable {
    /// dm device name, containerd `pool_name`. Default `containerd-pool` (urunc's guide).
    public var name: String
    /// Where the sparse data/metadata files live. Default the snapshotter's root.
    public var directory: String
    /// Sparse data file size, `truncate -s` syntax. Default `20G`.
    public var dataSize: String
    /// Sparse metadata file size. Default `1G`.
    public var metadataSize: String
    /// containerd `base_image_size`, each snapshot's device size. Default `10GB`.
    public var baseImageSize: String

    public init(
        name: String = "containerd-pool",
        directory: String = "/var/lib/containerd/io.containerd.snapshotter.v1.devmapper",
        dataSize: String = "20G", metadataSize: String = "1G", baseImageSize: String = "10GB"
    ) {
        self.name = name
        self.directory = directory
        self.dataSize = dataSize
        self.metadataSize = metadataSize
        self.baseImageSize = baseImageSize
    }
}

/// A monitor (VMM or sandbox) that urunc can start.
public enum UruncMonitor: Sendable, Hashable {
    /// qemu-system-x86 from the distribution. Needs KVM.
    case qemu
    /// Firecracker release tarball `firecracker-vX-x86_64.tgz`; `member` is the path of the
    /// binary inside (`release-vX-x86_64/firecracker-vX-x86_64`). Needs KVM.
    case firecracker(Artifact, member: String)
    /// solo5-hvt binary. Needs KVM.
    case solo5HVT(Artifact)
    /// solo5-spt binary (seccomp sandbox; no KVM).
    case solo5SPT(Artifact)

    public var name: String {
        switch self {
        case .qemu: return "qemu"
        case .firecracker: return "firecracker"
        case .solo5HVT: return "solo5-hvt"
        case .solo5SPT: return "solo5-spt"
        }
    }
    public var needsKVM: Bool {
        if case .solo5SPT = self { return false }
        return true
    }
}

/// urunc from its release binaries.
public struct UruncSpec: Sendable, Hashable {
    /// For example `0.6.0`.
    public var version: String
    /// `urunc_static_amd64` (or `urunc_amd64` on older releases) -> /usr/local/bin/urunc.
    public var urunc: Artifact
    /// `containerd-shim-urunc-v2_static_amd64` -> /usr/local/bin/containerd-shim-urunc-v2.
    public var shim: Artifact
    public var monitors: [UruncMonitor]
    public var pool: DevmapperPool
    /// Image of the urunc smoke pod (must carry urunc annotations); expected to reach Running.
    public var smokeImage: String

    public init(
        version: String, urunc: Artifact, shim: Artifact, monitors: [UruncMonitor] = [.qemu],
        pool: DevmapperPool = DevmapperPool(),
        smokeImage: String = "harbor.nbfc.io/nubificus/urunc/redis-hvt-rumprun-block:latest"
    ) {
        self.version = version
        self.urunc = urunc
        self.shim = shim
        self.monitors = monitors
        self.pool = pool
        self.smokeImage = smokeImage
    }

    /// Node label set through the kubelet (as urunc-deploy labels).
    public static let nodeLabel = (key: "urunc.io/urunc-runtime", value: "true")
}

/// KubeVirt, operator plus CR.
public struct KubeVirtSpec: Sendable, Hashable {
    /// For example `v1.6.0`.
    public var version: String
    /// The release's `kubevirt-operator.yaml`.
    public var operatorManifest: Artifact
    /// `spec.configuration.developerConfiguration.useEmulation`; the lead sets it when the
    /// nodes have no /dev/kvm (and warns that this is not the tuned configuration).
    public var useEmulation: Bool
    /// containerDisk image of the smoke VMI.
    public var smokeDiskImage: String?

    public init(
        version: String, operatorManifest: Artifact, useEmulation: Bool = false,
        smokeDiskImage: String? = nil
    ) {
        self.version = version
        self.operatorManifest = operatorManifest
        self.useEmulation = useEmulation
        self.smokeDiskImage = smokeDiskImage
    }

    /// `quay.io/kubevirt/cirros-container-disk-demo:<version>` unless set.
    public var effectiveSmokeDiskImage: String {
        smokeDiskImage ?? "quay.io/kubevirt/cirros-container-disk-demo:\(version)"
    }
}
