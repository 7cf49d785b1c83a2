/// A physical machine: a libvirt connection, and an SSH target for bare-metal nodes.
public struct LabHost: Sendable, Hashable {
    public var name: String
    public var libvirt: String
    public var ssh: String?
    public var accel: Accel
    /// Directory on the host under which nestlab keeps its storage pools.
    public var storageDir: String
    /// LabHost CPUs that VMs may be pinned to; nil means all online CPUs minus `reservedCPUs`.
    public var cpus: CPUSet?
    /// LabHost CPUs kept for the host itself, emulator threads and I/O threads.
    public var reservedCPUs: CPUSet?
    /// Whether VMs' pinned CPUs may overlap (CI hosts with few CPUs).
    public var overcommit: Bool
    /// `intel` or `amd`, chooses `vmx` or `svm` for nested virtualization; nil: ask libvirt.
    public var cpuVendor: CPUVendor?
    /// The distribution of the host itself, when it is a bare-metal cluster node.
    public var os: NodeOS = .debian12
    /// The host's address on the cluster network, when it is a bare-metal cluster node
    /// (kubeadm advertises it and the kubelet uses it as its node IP).
    public var address: IPv4?

    public init(
        name: String, libvirt: String = LabHost.defaultURI, ssh: String? = nil, accel: Accel = .auto,
        storageDir: String = LabHost.defaultStorageDir, cpus: CPUSet? = nil, reservedCPUs: CPUSet? = nil,
        overcommit: Bool = false, cpuVendor: CPUVendor? = nil
    ) {
        self.name = name
        self.libvirt = libvirt
        self.ssh = ssh
        self.accel = accel
        self.storageDir = storageDir
        self.cpus = cpus
        self.reservedCPUs = reservedCPUs
        self.overcommit = overcommit
        self.cpuVendor = cpuVendor
    }

    public static let defaultName = "localhost"
    public static let defaultURI = "qemu:///system"
    public static let defaultStorageDir = "/var/lib/libvirt/images/nestlab"

    public var isLocal: Bool { LibvirtURI.isLocal(libvirt) }

    /// Host CPUs kept for the host, emulator and I/O threads: as declared, or the first
    /// usable CPU when the host has more than two (so `pinning: auto` never takes them all).
    public func effectiveReservedCPUs(usable: CPUSet) -> CPUSet {
        reservedCPUs ?? (usable.count > 2 ? CPUSet([usable.cpus[0]]) : .empty)
    }
}
