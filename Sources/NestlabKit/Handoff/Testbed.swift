import Crypto
import Foundation
import NestlabCore

/// The record of a running testbed that a benchmark runner reads (`testbed.json`).
///
/// It says exactly which environment produced a number: the topology and lock by digest,
/// the hosts' CPUs, kernels and virtualization stack, every VM's placement and the
/// pinning libvirt really applied, and each cluster's versions, runtime classes and
/// knobs. The format is versioned (`schemaVersion`) and documented in docs/handoff.md,
/// with a JSON Schema in docs/testbed.schema.json. Every optional field is written as
/// `null` rather than left out, so that a reader sees what is unknown.
public struct Testbed: Codable, Sendable, Hashable {
    /// The version this code writes. Renaming or removing a key, or changing a type or a
    /// meaning, bumps it; readers must ignore keys they do not know.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var generator: Generator
    public var generatedAt: Date
    public var lab: LabInfo
    public var hosts: [Host]
    public var machines: [Machine]
    public var clusters: [Cluster]
    public var phases: [Phase]

    public struct Generator: Codable, Sendable, Hashable {
        public var name: String
        public var version: String
    }

    /// A file and the SHA-256 of its bytes.
    public struct FileDigest: Codable, Sendable, Hashable {
        public var path: String
        public var sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }

        /// Reads and hashes a file.
        public static func of(path: String) throws -> FileDigest {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw TestbedError.unreadable(path: path, reason: error.localizedDescription)
            }
            return FileDigest(path: Testbed.absolute(path), sha256: Testbed.hex(SHA256.hash(data: data)))
        }
    }

    public struct LabInfo: Codable, Sendable, Hashable {
        public var name: String
        public var topology: FileDigest
        /// The lock file (resolved artifact URLs and digests); null when the lab has none.
        public var lock: FileDigest?
        /// The lab's local state folder (kubeconfigs, logs), when known.
        public var stateDir: String?

        enum CodingKeys: String, CodingKey { case name, topology, lock, stateDir }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(topology, forKey: .topology)
            try c.encode(lock, forKey: .lock)
            try c.encode(stateDir, forKey: .stateDir)
        }
    }

    /// A physical host, as its libvirt (or, for bare metal, its OS) reported it.
    public struct Host: Codable, Sendable, Hashable {
        public var name: String
        public var libvirt: String
        public var ssh: String?
        public var cpuModel: String?
        /// `intel` or `amd`.
        public var cpuVendor: String?
        public var numa: [NUMANode]
        public var kernel: String?
        public var libvirtVersion: String?
        public var qemuVersion: String?
        /// Whether KVM really works there (not just `/dev/kvm`); null when not probed.
        public var kvm: Bool?

        enum CodingKeys: String, CodingKey {
            case name, libvirt, ssh, cpuModel, cpuVendor, numa, kernel, libvirtVersion, qemuVersion, kvm
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(libvirt, forKey: .libvirt)
            try c.encode(ssh, forKey: .ssh)
            try c.encode(cpuModel, forKey: .cpuModel)
            try c.encode(cpuVendor, forKey: .cpuVendor)
            try c.encode(numa, forKey: .numa)
            try c.encode(kernel, forKey: .kernel)
            try c.encode(libvirtVersion, forKey: .libvirtVersion)
            try c.encode(qemuVersion, forKey: .qemuVersion)
            try c.encode(kvm, forKey: .kvm)
        }
    }

    public struct NUMANode: Codable, Sendable, Hashable {
        public var node: Int
        public var cpus: [Int]
    }

    /// One VM: where it runs, how it is tuned, and what libvirt says about it now.
    public struct Machine: Codable, Sendable, Hashable {
        public var name: String
        public var host: String
        public var cluster: String?
        public var domain: String
        public var uuid: String
        public var profile: String
        public var image: String
        public var vcpus: Int
        /// vCPU → host CPUs as libvirt applied them; empty when the vCPUs float.
        public var pinning: [VCPUPin]
        public var emulatorPin: [Int]?
        public var iothreadPin: [Int]?
        public var memoryMiB: UInt64
        /// `2M` or `1G`; null without hugepages.
        public var hugepageSize: String?
        public var numaNode: Int?
        public var nestedVirtualization: Bool
        /// `kvm` or `tcg`.
        public var accelerator: String
        /// libvirt's CPU mode: `default`, `host-passthrough`, `host-model`, `maximum`.
        public var cpuMode: String
        public var addresses: [Address]
        /// libvirt's domain state: `running`, `shut off`, `paused`, ...
        public var state: String
        /// Whether nestlab saw the guest finish booting (cloud-init done).
        public var ready: Bool
        /// How to reach it over SSH (issue 18); null when nestlab does not know (no access recorded).
        public var ssh: SSH? = nil

        enum CodingKeys: String, CodingKey {
            case name, host, cluster, domain, uuid, profile, image, vcpus, pinning, emulatorPin, iothreadPin, memoryMiB
            case hugepageSize, numaNode, nestedVirtualization, accelerator, cpuMode, addresses, state, ready, ssh
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(host, forKey: .host)
            try c.encode(cluster, forKey: .cluster)
            try c.encode(domain, forKey: .domain)
            try c.encode(uuid, forKey: .uuid)
            try c.encode(profile, forKey: .profile)
            try c.encode(image, forKey: .image)
            try c.encode(vcpus, forKey: .vcpus)
            try c.encode(pinning, forKey: .pinning)
            try c.encode(emulatorPin, forKey: .emulatorPin)
            try c.encode(iothreadPin, forKey: .iothreadPin)
            try c.encode(memoryMiB, forKey: .memoryMiB)
            try c.encode(hugepageSize, forKey: .hugepageSize)
            try c.encode(numaNode, forKey: .numaNode)
            try c.encode(nestedVirtualization, forKey: .nestedVirtualization)
            try c.encode(accelerator, forKey: .accelerator)
            try c.encode(cpuMode, forKey: .cpuMode)
            try c.encode(addresses, forKey: .addresses)
            try c.encode(state, forKey: .state)
            try c.encode(ready, forKey: .ready)
            try c.encode(ssh, forKey: .ssh)
        }
    }

    /// What a runner needs to reach a machine with the system ssh: `ssh -F configFile alias`,
    /// or the parts (the host key is checked against `knownHostsFile`, strictly).
    public struct SSH: Codable, Sendable, Hashable {
        public var host: String
        public var port: Int
        public var user: String?
        public var identityFile: String?
        public var knownHostsFile: String
        /// `[user@]host[:port]` of the host it is reached through, or null.
        public var proxyJump: String?
        public var configFile: String
        public var alias: String

        enum CodingKeys: String, CodingKey {
            case host, port, user, identityFile, knownHostsFile, proxyJump, configFile, alias
        }

        public init(
            host: String, port: Int, user: String?, identityFile: String?, knownHostsFile: String, proxyJump: String?,
            configFile: String, alias: String
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.identityFile = identityFile
            self.knownHostsFile = knownHostsFile
            self.proxyJump = proxyJump
            self.configFile = configFile
            self.alias = alias
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(host, forKey: .host)
            try c.encode(port, forKey: .port)
            try c.encode(user, forKey: .user)
            try c.encode(identityFile, forKey: .identityFile)
            try c.encode(knownHostsFile, forKey: .knownHostsFile)
            try c.encode(proxyJump, forKey: .proxyJump)
            try c.encode(configFile, forKey: .configFile)
            try c.encode(alias, forKey: .alias)
        }
    }

    public struct VCPUPin: Codable, Sendable, Hashable {
        public var vcpu: Int
        public var cpus: [Int]
    }

    public struct Address: Codable, Sendable, Hashable {
        public var network: String
        public var address: String
        public var mac: String
    }

    public struct Cluster: Codable, Sendable, Hashable {
        public var name: String
        public var kubernetesVersion: String
        /// `https://ADDRESS:6443`.
        public var apiEndpoint: String
        public var kubeconfig: String
        public var nodes: [Node]
        public var cni: CNI
        public var podCIDR: String
        public var serviceCIDR: String
        /// A containerd release, or `distro` when the OS package is used and its version was not reported.
        public var containerd: String
        public var kubelet: Kubelet
        public var runtimeClasses: [RuntimeClass]
    }

    public struct Node: Codable, Sendable, Hashable {
        /// The Kubernetes node name.
        public var name: String
        /// `control-plane` or `worker`.
        public var role: String
        /// `vm` or `baremetal`.
        public var kind: String
        /// The VM it runs in; null for bare metal.
        public var machine: String?
        /// The physical host: the VM's host, or the bare-metal host itself.
        public var host: String
        public var address: String?
        /// The node's Ready condition; null when not reported.
        public var ready: Bool?

        enum CodingKeys: String, CodingKey { case name, role, kind, machine, host, address, ready }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(role, forKey: .role)
            try c.encode(kind, forKey: .kind)
            try c.encode(machine, forKey: .machine)
            try c.encode(host, forKey: .host)
            try c.encode(address, forKey: .address)
            try c.encode(ready, forKey: .ready)
        }
    }

    public struct CNI: Codable, Sendable, Hashable {
        public var name: String
        public var version: String
    }

    public struct Kubelet: Codable, Sendable, Hashable {
        public var cpuManagerPolicy: String
        public var reservedCPUs: String?
        public var topologyManagerPolicy: String

        enum CodingKeys: String, CodingKey { case cpuManagerPolicy, reservedCPUs, topologyManagerPolicy }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cpuManagerPolicy, forKey: .cpuManagerPolicy)
            try c.encode(reservedCPUs, forKey: .reservedCPUs)
            try c.encode(topologyManagerPolicy, forKey: .topologyManagerPolicy)
        }
    }

    /// A way to run a workload in the cluster, as a benchmark runner selects it.
    public struct RuntimeClass: Codable, Sendable, Hashable {
        /// Unique in the cluster: `runc`, `crun`, `kata-qemu`, `urunc`, `kubevirt`.
        public var name: String
        /// `runc`, `crun`, `kata`, `urunc` or `kubevirt`.
        public var runtime: String
        /// `pod` (a pod with `runtimeClassName`) or `vm` (a KubeVirt VirtualMachineInstance).
        public var kind: String
        /// What a pod puts in `spec.runtimeClassName`; null for the node default (runc) and for VMs.
        public var runtimeClassName: String?
        /// The containerd handler; null for KubeVirt.
        public var handler: String?
        /// The installed version; null when neither pinned nor reported (runc from the distro).
        public var version: String?
        /// The runtime's own settings, by their upstream names (Kata's TOML keys, ...).
        public var knobs: [String: Knob]
        /// RuntimeClass `overhead.podFixed`; null when none.
        public var overhead: Overhead?

        enum CodingKeys: String, CodingKey {
            case name, runtime, kind, runtimeClassName, handler, version, knobs, overhead
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(runtime, forKey: .runtime)
            try c.encode(kind, forKey: .kind)
            try c.encode(runtimeClassName, forKey: .runtimeClassName)
            try c.encode(handler, forKey: .handler)
            try c.encode(version, forKey: .version)
            try c.encode(knobs, forKey: .knobs)
            try c.encode(overhead, forKey: .overhead)
        }
    }

    public struct Overhead: Codable, Sendable, Hashable {
        public var cpu: String
        public var memory: String
    }

    /// A knob's value: JSON string, integer or boolean.
    public enum Knob: Codable, Sendable, Hashable {
        case string(String)
        case int(Int)
        case bool(Bool)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? c.decode(Int.self) {
                self = .int(i)
            } else {
                self = .string(try c.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .int(let i): try c.encode(i)
            case .bool(let b): try c.encode(b)
            }
        }
    }

    /// A step of `up` (networks, images, domains, boot, cluster, runtimes, ...) and when it ran.
    public struct Phase: Codable, Sendable, Hashable {
        public var name: String
        public var start: Date
        public var end: Date

        public init(name: String, start: Date, end: Date) {
            self.name = name
            self.start = start
            self.end = end
        }
    }
}

// MARK: - Building

extension Testbed {
    /// What nestlab learned about a host (libvirt capabilities and versions, `uname -r`).
    public struct HostReport: Sendable, Hashable {
        public var name: String
        public var cpuModel: String?
        public var cpuVendor: CPUVendor?
        /// NUMA node → its CPUs.
        public var numa: [Int: CPUSet]
        public var kernel: String?
        public var libvirtVersion: String?
        public var qemuVersion: String?
        public var kvmUsable: Bool?

        public init(
            name: String, cpuModel: String? = nil, cpuVendor: CPUVendor? = nil, numa: [Int: CPUSet] = [:],
            kernel: String? = nil, libvirtVersion: String? = nil, qemuVersion: String? = nil, kvmUsable: Bool? = nil
        ) {
            self.name = name
            self.cpuModel = cpuModel
            self.cpuVendor = cpuVendor
            self.numa = numa
            self.kernel = kernel
            self.libvirtVersion = libvirtVersion
            self.qemuVersion = qemuVersion
            self.kvmUsable = kvmUsable
        }
    }

    /// What libvirt reports about a running machine (its live domain XML and state).
    public struct MachineReport: Sendable, Hashable {
        public var name: String
        /// vCPU i → host CPUs, from the live `<cputune><vcpupin>`; empty when floating.
        public var vcpuPins: [CPUSet]
        public var emulatorPin: CPUSet?
        public var iothreadPin: CPUSet?
        /// libvirt's state name (`running`, `shut off`, ...).
        public var state: String
        public var ready: Bool
        /// The live `<cpu mode>`; nil takes what the profile and accelerator imply.
        public var cpuMode: String?
        /// Network → address seen in the guest; nil keeps the planned static addresses.
        public var addresses: [String: String]?
        /// How it is reached over SSH, as `up` recorded it.
        public var ssh: SSH? = nil

        public init(
            name: String, vcpuPins: [CPUSet], emulatorPin: CPUSet? = nil, iothreadPin: CPUSet? = nil,
            state: String, ready: Bool, cpuMode: String? = nil, addresses: [String: String]? = nil
        ) {
            self.name = name
            self.vcpuPins = vcpuPins
            self.emulatorPin = emulatorPin
            self.iothreadPin = iothreadPin
            self.state = state
            self.ready = ready
            self.cpuMode = cpuMode
            self.addresses = addresses
        }
    }

    /// What nestlab knows about a formed cluster.
    public struct ClusterReport: Sendable, Hashable {
        public var name: String
        /// `https://ADDRESS:6443`.
        public var apiEndpoint: String
        public var kubeconfig: String
        /// As the API server reports it (`/version` gitVersion without `v`); nil takes the pinned release.
        public var kubernetesVersion: String?
        /// Topology node (`cp`, `worker-0`, `host:node1`) → Kubernetes node name, where they differ
        /// (bare-metal hosts keep their own host names).
        public var nodeNames: [String: String]
        /// Kubernetes node name → its Ready condition.
        public var nodeReady: [String: Bool]
        /// Runtime (`runc`, `crun`, `kata`, `urunc`, `kubevirt`, `containerd`, `cni`) → installed version,
        /// where nestlab read it; it wins over the pinned one.
        public var versions: [String: String]
        /// Whether KubeVirt runs with `useEmulation` (no `/dev/kvm` in the nodes); nil when not decided.
        public var kubevirtEmulation: Bool?

        public init(
            name: String, apiEndpoint: String, kubeconfig: String, kubernetesVersion: String? = nil,
            nodeNames: [String: String] = [:], nodeReady: [String: Bool] = [:], versions: [String: String] = [:],
            kubevirtEmulation: Bool? = nil
        ) {
            self.name = name
            self.apiEndpoint = apiEndpoint
            self.kubeconfig = kubeconfig
            self.kubernetesVersion = kubernetesVersion
            self.nodeNames = nodeNames
            self.nodeReady = nodeReady
            self.versions = versions
            self.kubevirtEmulation = kubevirtEmulation
        }
    }

    /// Builds the record of a lab from its topology, the resolved lab and what was observed.
    ///
    /// Everything the topology decides (profiles, runtime knobs, pinned versions) comes from
    /// `topology` and `lab`; everything only the running system knows (applied pinning,
    /// state, host facts, endpoints) comes from the reports. Every machine and cluster
    /// needs a report; hosts without one get nulls.
    public static func build(
        topology: Topology, lab: NestlabCore.Lab, lock: FileDigest?, hosts: [HostReport],
        machines: [MachineReport], clusters: [ClusterReport], phases: [Phase],
        generatedAt: Date = Date(), stateDir: String? = nil
    ) throws -> Testbed {
        let hostNames = topology.hosts.map(\.name)
        for h in hosts where !hostNames.contains(h.name) { throw TestbedError.unknownHost(h.name, known: hostNames) }
        let machineNames = lab.machines.map(\.name)
        for m in machines where !machineNames.contains(m.name) {
            throw TestbedError.unknownMachine(m.name, known: machineNames)
        }
        let clusterNames = topology.clusters.map(\.name)
        for c in clusters where !clusterNames.contains(c.name) {
            throw TestbedError.unknownCluster(c.name, known: clusterNames)
        }
        for p in phases where p.end < p.start { throw TestbedError.phaseEndsBeforeStart(p.name) }

        let outHosts = topology.hosts.map { h -> Host in
            let r = hosts.first { $0.name == h.name }
            return Host(
                name: h.name, libvirt: h.libvirt, ssh: h.ssh, cpuModel: r?.cpuModel,
                cpuVendor: (r?.cpuVendor ?? h.cpuVendor)?.rawValue,
                numa: (r?.numa ?? [:]).sorted { $0.key < $1.key }.map { NUMANode(node: $0.key, cpus: $0.value.cpus) },
                kernel: r?.kernel, libvirtVersion: r?.libvirtVersion, qemuVersion: r?.qemuVersion, kvm: r?.kvmUsable)
        }

        var outMachines: [Machine] = []
        for m in lab.machines {
            guard let r = machines.first(where: { $0.name == m.name }) else {
                throw TestbedError.missingMachineReport(m.name)
            }
            outMachines.append(machine(m, report: r))
        }

        var outClusters: [Cluster] = []
        for c in topology.clusters {
            guard let r = clusters.first(where: { $0.name == c.name }) else {
                throw TestbedError.missingClusterReport(c.name)
            }
            outClusters.append(try cluster(c, report: r, topology: topology, lab: lab))
        }

        return Testbed(
            schemaVersion: currentSchemaVersion, generator: Generator(name: "nestlab", version: NestlabVersion.string),
            generatedAt: generatedAt,
            lab: LabInfo(
                name: topology.name, topology: FileDigest(path: absolute(topology.file), sha256: topology.digest),
                lock: lock, stateDir: stateDir),
            hosts: outHosts, machines: outMachines, clusters: outClusters,
            phases: phases.sorted { ($0.start, $0.name) < ($1.start, $1.name) })
    }

    /// The record of one machine: what the topology decides, and what its report observed.
    private static func machine(_ m: NestlabCore.Machine, report r: MachineReport) -> Machine {
        let addresses = m.nics.map { nic in
            Address(
                network: nic.network.name, address: r.addresses?[nic.network.name] ?? nic.address.description,
                mac: nic.mac)
        }
        return Machine(
            name: m.name, host: m.host.name, cluster: m.cluster, domain: m.domainName, uuid: m.uuid,
            profile: m.profile.name, image: m.image.name, vcpus: m.vcpus,
            pinning: r.vcpuPins.enumerated().map { VCPUPin(vcpu: $0.offset, cpus: $0.element.cpus) },
            emulatorPin: r.emulatorPin?.cpus, iothreadPin: r.iothreadPin?.cpus, memoryMiB: m.memory.mib,
            hugepageSize: m.profile.hugepages == .none ? nil : m.profile.hugepages.rawValue,
            numaNode: m.numaNode,
            nestedVirtualization: m.profile.nested && m.accel == .kvm, accelerator: m.accel.rawValue,
            cpuMode: r.cpuMode ?? effectiveCPUMode(m), addresses: addresses, state: r.state, ready: r.ready,
            ssh: r.ssh)
    }

    /// Under TCG, host-passthrough is rendered as QEMU's `maximum` model (see the validator's warning).
    static func effectiveCPUMode(_ m: NestlabCore.Machine) -> String {
        if m.accel == .tcg && m.profile.cpuMode == .hostPassthrough { return CPUMode.maximum.rawValue }
        return m.profile.cpuMode.rawValue
    }

    static func cluster(_ c: NestlabCore.Cluster, report r: ClusterReport, topology: Topology, lab: NestlabCore.Lab)
        throws -> Cluster
    {
        // A machine group stands for its instances (worker → worker-0, worker-1).
        func instances(_ ref: NodeRef) -> [String] {
            switch ref {
            case .host(let h): return ["host:\(h)"]
            case .machine(let m): return topology.machineGroup(named: m)?.instanceNames ?? [m]
            }
        }
        var nodes: [Node] = []
        var known: [String] = []
        for (ref, role) in c.controlPlane.map({ ($0, "control-plane") }) + c.workers.map({ ($0, "worker") }) {
            for inst in instances(ref) {
                known.append(inst)
                switch ref {
                case .machine:
                    let m = lab.machine(named: inst)
                    let name = r.nodeNames[inst] ?? inst
                    nodes.append(
                        Node(
                            name: name, role: role, kind: "vm", machine: inst, host: m?.host.name ?? "",
                            address: m?.primaryAddress?.description, ready: r.nodeReady[name]))
                case .host(let h):
                    let name = r.nodeNames[inst] ?? h
                    nodes.append(
                        Node(
                            name: name, role: role, kind: "baremetal", machine: nil, host: h,
                            address: nil, ready: r.nodeReady[name]))
                }
            }
        }
        for n in r.nodeNames.keys.sorted() where !known.contains(n) {
            throw TestbedError.unknownNode(cluster: c.name, node: n, known: known)
        }

        let kube: String
        if let v = r.kubernetesVersion {
            kube = v.hasPrefix("v") ? String(v.dropFirst()) : v
        } else if case .resolved(let v) = Versions.resolveKubernetes(c.kubernetes) {
            kube = v
        } else {
            kube = c.kubernetes
        }
        let cniPinned = c.cniVersion ?? (c.cni == .flannel ? Versions.flannel : Versions.calico)
        return Cluster(
            name: c.name, kubernetesVersion: kube, apiEndpoint: r.apiEndpoint, kubeconfig: r.kubeconfig, nodes: nodes,
            cni: CNI(name: c.cni.rawValue, version: r.versions["cni"] ?? cniPinned),
            podCIDR: c.podCIDR.description, serviceCIDR: c.serviceCIDR.description,
            containerd: r.versions["containerd"] ?? c.containerd,
            kubelet: Kubelet(
                cpuManagerPolicy: c.cpuManagerPolicy.rawValue, reservedCPUs: c.reservedCPUs?.description,
                topologyManagerPolicy: c.topologyManagerPolicy.rawValue),
            runtimeClasses: c.runtimes.flatMap { runtimeClasses($0, report: r) })
    }

    /// The runtime classes a runtime adds to a cluster, named as nestlab's RuntimeClasses are.
    static func runtimeClasses(_ rt: RuntimeSpec, report r: ClusterReport) -> [RuntimeClass] {
        switch rt {
        case .runc:
            return [
                RuntimeClass(
                    name: "runc", runtime: "runc", kind: "pod", runtimeClassName: nil, handler: "runc",
                    version: r.versions["runc"], knobs: ["SystemdCgroup": .bool(true)], overhead: nil)
            ]
        case .crun:
            return [
                RuntimeClass(
                    name: "crun", runtime: "crun", kind: "pod", runtimeClassName: "crun", handler: "crun",
                    version: r.versions["crun"], knobs: ["SystemdCgroup": .bool(true)], overhead: nil)
            ]
        case .kata(let k):
            let overhead = PodOverhead.kataDefault
            return k.hypervisors.map { h in
                var knobs: [String: Knob] = [
                    "hypervisor": .string(h.rawValue),
                    "default_vcpus": .int(k.defaultVCPUs),
                    "default_memory": .int(Int(k.defaultMemory.mib)),
                    "enable_hugepages": .bool(k.enableHugepages),
                ]
                // Firecracker has no shared filesystem; nestlab writes neither key for it.
                if h != .fc {
                    knobs["shared_fs"] = .string(k.sharedFS.rawValue)
                    if k.sharedFS == .virtioFS { knobs["virtio_fs_cache"] = .string(k.virtioFSCache) }
                }
                return RuntimeClass(
                    name: h.runtimeClass, runtime: "kata", kind: "pod", runtimeClassName: h.runtimeClass,
                    handler: h.runtimeClass, version: r.versions["kata"] ?? k.version, knobs: knobs,
                    overhead: Overhead(cpu: overhead.cpu, memory: overhead.memory))
            }
        case .urunc(let u):
            return [
                RuntimeClass(
                    name: "urunc", runtime: "urunc", kind: "pod", runtimeClassName: "urunc", handler: "urunc",
                    version: r.versions["urunc"] ?? u.version,
                    knobs: [
                        "monitors": .string(u.monitors.map(\.rawValue).joined(separator: ",")),
                        "snapshotter": .string("devmapper"),
                        "thinPoolSize": .string(u.thinPoolSize.description),
                    ],
                    overhead: nil)
            ]
        case .kubevirt(let k):
            var knobs: [String: Knob] = ["emulation": .string(k.emulation.rawValue)]
            if let e = r.kubevirtEmulation {
                knobs["useEmulation"] = .bool(e)
            } else if k.emulation != .auto {
                knobs["useEmulation"] = .bool(k.emulation == .on)
            }
            return [
                RuntimeClass(
                    name: "kubevirt", runtime: "kubevirt", kind: "vm", runtimeClassName: nil, handler: nil,
                    version: r.versions["kubevirt"] ?? k.version, knobs: knobs, overhead: nil)
            ]
        }
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

// MARK: - Encoding

extension Testbed {
    /// Key-sorted, pretty JSON with RFC 3339 UTC times (milliseconds), ending in a newline.
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Testbed.timestamp(date))
        }
        var data = try e.encode(self)
        data.append(0x0A)
        return data
    }

    /// Reads a testbed.json of the version this code writes.
    public static func decode(_ data: Data) throws -> Testbed {
        struct Version: Decodable { var schemaVersion: Int }
        let d = JSONDecoder()
        let v = try d.decode(Version.self, from: data)
        guard v.schemaVersion == currentSchemaVersion else {
            throw TestbedError.unsupportedSchemaVersion(v.schemaVersion)
        }
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = Testbed.parseTimestamp(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not an RFC 3339 time")
            }
            return date
        }
        return try d.decode(Testbed.self, from: data)
    }

    /// Writes the record (mode 0600, atomically, like all lab state).
    public func write(to url: URL) throws {
        try SecretFile.write(try jsonData(), to: url)
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    static func parseTimestamp(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
