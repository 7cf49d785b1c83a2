import Foundation

/// A parsed topology file: what the user wrote, typed, before defaults that need
/// the host (CPU numbering, KVM availability) are applied.
public struct Topology: Sendable {
    public var name: String
    /// Path of the file it came from (as given), and its directory for relative paths.
    public var file: String
    public var hosts: [LabHost]
    public var images: [Image]
    public var networks: [Network]
    public var profiles: [Profile]
    public var machines: [MachineGroup]
    public var clusters: [Cluster]
    public var handoff: Handoff?
    /// SHA-256 of the file's bytes.
    public var digest: String
    /// Where each key path was written, for diagnostics after parsing.
    public var locations: [String: FileLocation]

    public func host(named n: String) -> LabHost? { hosts.first { $0.name == n } }
    public func image(named n: String) -> Image? { images.first { $0.name == n } }
    public func network(named n: String) -> Network? { networks.first { $0.name == n } }
    public func machineGroup(named n: String) -> MachineGroup? { machines.first { $0.name == n } }
}

/// How a VM is accelerated.
public enum Accel: String, Sendable, Hashable, CaseIterable, Codable {
    /// KVM when it really works on the host, otherwise TCG with a warning.
    case auto
    /// Hardware virtualization; `up` refuses when KVM does not work.
    case kvm
    /// Software emulation (QEMU TCG): slow, but runs anywhere.
    case tcg
}

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

public enum CPUVendor: String, Sendable, Hashable, CaseIterable, Codable {
    case intel, amd
    /// The CPU feature that nested virtualization needs in the guest.
    public var virtFeature: String { self == .intel ? "vmx" : "svm" }
}

public enum LibvirtURI {
    /// A URI without a host part talks to this machine: `qemu:///system`, `test:///default`.
    public static func isLocal(_ uri: String) -> Bool {
        guard let r = uri.range(of: "://") else { return true }
        let rest = uri[r.upperBound...]
        return rest.hasPrefix("/")
    }

    public static func isTestDriver(_ uri: String) -> Bool { uri.hasPrefix("test:") }
}

/// A base disk image.
public struct Image: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A local file, resolved against the topology's directory.
        case file(path: String)
        /// A download, verified by a pinned digest or a checksum file.
        case url(String, sha256: String?, checksums: String?)
    }

    public enum Format: String, Sendable, Hashable, CaseIterable, Codable { case qcow2, raw }

    public var name: String
    public var source: Source
    public var format: Format
    /// The guest's distribution: decides how node scripts install packages and which
    /// containerd the distribution ships (1.6 on Debian 12, 1.7 on Ubuntu).
    public var os: NodeOS = .debian12
    /// Direct kernel boot (images without a boot loader, like nestlab's test image).
    public var kernel: String?
    public var initrd: String?
    public var cmdline: String?
}

/// A node's distribution, as far as the node scripts care.
public enum NodeOS: String, Sendable, Hashable, CaseIterable, Codable {
    case debian12 = "debian-12"
    case ubuntu2204 = "ubuntu-22.04"
    case ubuntu2404 = "ubuntu-24.04"

    /// Guess from an image's URL or file name.
    public static func guess(_ s: String) -> NodeOS {
        let l = s.lowercased()
        if l.contains("jammy") || l.contains("22.04") { return .ubuntu2204 }
        if l.contains("ubuntu") || l.contains("noble") || l.contains("24.04") { return .ubuntu2404 }
        return .debian12
    }
}

public struct Network: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        /// A libvirt NAT network with its own bridge and DHCP.
        case nat
        /// A libvirt network without a route out.
        case isolated
        /// An existing host bridge (for labs spanning hosts); no libvirt network is created.
        case bridge
    }

    public var name: String
    public var mode: Mode
    public var cidr: IPv4Network
    /// LabHost bridge for `bridge` mode.
    public var bridge: String?
    public var gateway: IPv4?
    public var dns: [IPv4]

    /// The host's own address on a libvirt network (its bridge), which no machine may take.
    public var hostAddress: IPv4? { mode == .bridge ? nil : cidr.firstHost }

    /// The gateway guests use: given, or for NAT the network's first address (libvirt's
    /// bridge). Isolated networks route nowhere, so they give no default route.
    public var effectiveGateway: IPv4? {
        if let gateway { return gateway }
        return mode == .nat ? cidr.firstHost : nil
    }
}

/// Tuning, as named knobs. Optional fields inherit from `extends` and finally
/// from libvirt's defaults; `ResolvedProfile` has every field filled.
public struct Profile: Sendable, Hashable {
    public var name: String
    public var extends: String?
    public var cpuMode: CPUMode?
    public var nested: Bool?
    public var pinning: Pinning?
    public var emulatorPin: Pinning?
    public var iothreadPin: Pinning?
    public var hugepages: HugePages?
    public var numa: NUMAMode?
    public var numaNode: Int?
    public var diskCache: DiskCache?
    public var diskIO: DiskIO?
    public var iothread: Bool?
    public var netQueues: Queues?
    public var vhost: Bool?

    public init(name: String) { self.name = name }
}

public enum CPUMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// libvirt's default CPU model (no `<cpu>` element).
    case `default`
    case hostPassthrough = "host-passthrough"
    case hostModel = "host-model"
    /// QEMU's `max` model; the one that works under TCG.
    case maximum
}

public enum Pinning: Sendable, Hashable, CustomStringConvertible {
    /// Floating: no pinning.
    case none
    /// nestlab picks host CPUs: vCPUs 1:1 on free CPUs, emulator and I/O threads on reserved ones.
    case auto
    /// These host CPUs.
    case cpus(CPUSet)

    public var description: String {
        switch self {
        case .none: return "none"
        case .auto: return "auto"
        case .cpus(let s): return s.description
        }
    }
}

public enum HugePages: String, Sendable, Hashable, CaseIterable, Codable {
    case none
    case size2M = "2M"
    case size1G = "1G"

    public var pageSize: ByteSize? {
        switch self {
        case .none: return nil
        case .size2M: return .mib(2)
        case .size1G: return .gib(1)
        }
    }
}

public enum NUMAMode: String, Sendable, Hashable, CaseIterable, Codable {
    case none, strict, preferred, interleave
}

public enum DiskCache: String, Sendable, Hashable, CaseIterable, Codable {
    case `default`, none, writethrough, writeback, directsync, unsafe
}

public enum DiskIO: String, Sendable, Hashable, CaseIterable, Codable {
    case `default`, native, threads
    case ioUring = "io_uring"
}

public enum Queues: Sendable, Hashable, CustomStringConvertible {
    case none
    /// One queue per vCPU.
    case auto
    case count(Int)

    public var description: String {
        switch self {
        case .none: return "none"
        case .auto: return "auto"
        case .count(let n): return "\(n)"
        }
    }
}

/// A profile with every knob decided.
public struct ResolvedProfile: Sendable, Hashable {
    public var name: String
    public var cpuMode: CPUMode = .default
    public var nested: Bool = false
    public var pinning: Pinning = .none
    public var emulatorPin: Pinning = .none
    public var iothreadPin: Pinning = .none
    public var hugepages: HugePages = .none
    public var numa: NUMAMode = .none
    public var numaNode: Int?
    public var diskCache: DiskCache = .default
    public var diskIO: DiskIO = .default
    public var iothread: Bool = false
    public var netQueues: Queues = .none
    public var vhost: Bool = true

    public init(name: String) { self.name = name }
}

/// One `machines:` entry; `count` alike machines expand to `name-0`, `name-1`, ...
public struct MachineGroup: Sendable, Hashable {
    public var name: String
    public var count: Int?
    public var host: String
    public var image: String
    public var profile: String
    public var vcpus: Int
    public var memory: ByteSize
    public var disk: ByteSize
    public var accel: Accel?
    /// Networks in NIC order, with a static address (the first, for a group) or nil for the next free one.
    public var networks: [(name: String, address: IPv4?)]
    /// Explicit host CPUs for this machine (for a group: all instances, consecutively).
    public var pinning: CPUSet?
    public var numaNode: Int?

    public var instanceNames: [String] {
        guard let count else { return [name] }
        return (0..<count).map { "\(name)-\($0)" }
    }

    public static func == (a: MachineGroup, b: MachineGroup) -> Bool {
        a.name == b.name && a.count == b.count && a.host == b.host && a.image == b.image && a.profile == b.profile
            && a.vcpus == b.vcpus && a.memory == b.memory && a.disk == b.disk && a.accel == b.accel
            && a.networks.map(\.name) == b.networks.map(\.name)
            && a.networks.map(\.address) == b.networks.map(\.address)
            && a.pinning == b.pinning && a.numaNode == b.numaNode
    }

    public func hash(into h: inout Hasher) { h.combine(name) }
}

/// A node of a cluster: a VM (machine or machine group) or a bare-metal host.
public enum NodeRef: Sendable, Hashable, CustomStringConvertible {
    case machine(String)
    case host(String)

    public var description: String {
        switch self {
        case .machine(let m): return m
        case .host(let h): return "host:\(h)"
        }
    }
}

public struct Cluster: Sendable, Hashable {
    public enum CNI: String, Sendable, Hashable, CaseIterable, Codable { case flannel, calico }
    public enum CPUManagerPolicy: String, Sendable, Hashable, CaseIterable, Codable { case none, `static` }
    public enum TopologyManagerPolicy: String, Sendable, Hashable, CaseIterable, Codable {
        case none
        case bestEffort = "best-effort"
        case restricted
        case singleNumaNode = "single-numa-node"
    }

    public var name: String
    /// As written: `1.33` or `1.33.4`.
    public var kubernetes: String
    public var controlPlane: [NodeRef]
    public var workers: [NodeRef]
    public var cni: CNI
    public var cniVersion: String?
    public var podCIDR: IPv4Network
    public var serviceCIDR: IPv4Network
    /// `distro` (the OS package) or a pinned containerd release `X.Y.Z`.
    public var containerd: String
    public var runtimes: [RuntimeSpec]
    public var cpuManagerPolicy: CPUManagerPolicy
    public var reservedCPUs: CPUSet?
    public var topologyManagerPolicy: TopologyManagerPolicy

    public var allNodes: [NodeRef] { controlPlane + workers }
}

/// A runtime to install in a cluster, with its pinned version and knobs.
public enum RuntimeSpec: Sendable, Hashable {
    case runc
    case crun
    case kata(KataOptions)
    case urunc(UruncOptions)
    case kubevirt(KubeVirtOptions)

    public var name: String {
        switch self {
        case .runc: return "runc"
        case .crun: return "crun"
        case .kata: return "kata"
        case .urunc: return "urunc"
        case .kubevirt: return "kubevirt"
        }
    }

    /// Whether the runtime needs `/dev/kvm` inside the node.
    public var needsKVM: Bool {
        switch self {
        case .runc, .crun: return false
        case .kata: return true
        case .urunc(let u): return u.monitors.contains { $0 != .solo5Spt }
        case .kubevirt(let k): return k.emulation == .off
        }
    }
}

public struct KataOptions: Sendable, Hashable {
    public enum Hypervisor: String, Sendable, Hashable, CaseIterable, Codable {
        case qemu, clh, fc
        public var runtimeClass: String { "kata-\(rawValue)" }
    }
    public enum SharedFS: String, Sendable, Hashable, CaseIterable, Codable {
        case virtioFS = "virtio-fs"
        case virtio9p = "virtio-9p"
        case none
    }

    public var version: String
    public var hypervisors: [Hypervisor]
    public var defaultVCPUs: Int
    public var defaultMemory: ByteSize
    public var enableHugepages: Bool
    public var sharedFS: SharedFS
    public var virtioFSCache: String
}

public struct UruncOptions: Sendable, Hashable {
    public enum Monitor: String, Sendable, Hashable, CaseIterable, Codable {
        case qemu, firecracker
        case solo5Hvt = "solo5-hvt"
        case solo5Spt = "solo5-spt"
    }

    public var version: String
    public var monitors: [Monitor]
    public var thinPoolSize: ByteSize
}

public struct KubeVirtOptions: Sendable, Hashable {
    public enum Emulation: String, Sendable, Hashable, CaseIterable, Codable {
        /// Emulate when the nodes have no `/dev/kvm` (with a warning: not the tuned setup).
        case auto
        case on
        case off
    }

    public var version: String
    public var emulation: Emulation
}

public struct Handoff: Sendable, Hashable {
    public var command: [String]
    public var env: [String: String]
    public var workdir: String?
}
