import Foundation

/// Semantic checks of a parsed topology: references, addresses, pinning,
/// memory, virtualization and clusters. Every finding is collected.
public struct TopologyValidator {
    public let topology: Topology

    public init(topology: Topology) { self.topology = topology }

    var t: Topology { topology }

    func loc(_ path: String) -> FileLocation? { t.locations[path] }

    public func validate(_ d: inout Diagnostics) {
        checkNames(&d)
        checkExpandedNames(&d)
        checkReferences(&d)
        checkProfiles(&d)
        checkAddresses(&d)
        checkAddressSafety(&d)
        checkPinning(&d)
        checkMemory(&d)
        checkVirtualization(&d)
        checkClusters(&d)
        checkUnused(&d)
    }

    // MARK: names

    func checkNames(_ d: inout Diagnostics) {
        func dupes(_ names: [String], kind: String, path: (String) -> String) {
            var seen = Set<String>()
            for n in names where !seen.insert(n).inserted {
                d.error(
                    path(n), at: loc(path(n)), "\(kind) name '\(n)' is used twice",
                    hint: "give each \(kind) its own name")
            }
        }
        dupes(t.hosts.map(\.name), kind: "host") { "hosts.\($0)" }
        dupes(t.clusters.map(\.name), kind: "cluster") { "clusters.\($0)" }
        for p in t.profiles where Presets.profile(named: p.name) != nil {
            d.error(
                "profiles.\(p.name)", at: loc("profiles.\(p.name)"), "'\(p.name)' is a built-in preset",
                hint: "choose another name, and use 'extends: \(p.name)' to start from it")
        }
        // Machine names must be unique after expanding counts (worker ×2 → worker-0, worker-1).
        var owner: [String: String] = [:]
        for g in t.machines {
            for inst in g.instanceNames {
                if let other = owner[inst] {
                    let what = other == g.name ? "is used twice" : "collides with a machine of '\(other)'"
                    d.error(
                        "machines.\(g.name)", at: loc("machines.\(g.name)"), "machine name '\(inst)' \(what)",
                        hint: "give each machine its own name (a group with count N is named NAME-0 … NAME-(N-1))")
                    break
                }
                owner[inst] = g.name
            }
        }
    }

    // MARK: references

    func checkReferences(_ d: inout Diagnostics) {
        let profileNames = t.profiles.map(\.name) + Presets.profiles.map(\.name)
        for g in t.machines {
            let p = "machines.\(g.name)"
            if !g.host.isEmpty && t.host(named: g.host) == nil {
                dangling(&d, "\(p).host", what: "host", g.host, t.hosts.map(\.name))
            }
            if !g.image.isEmpty && t.image(named: g.image) == nil {
                dangling(&d, "\(p).image", what: "image", g.image, t.images.map(\.name))
            }
            if !profileNames.contains(g.profile) {
                dangling(&d, "\(p).profile", what: "profile", g.profile, profileNames)
            }
            var seen = Set<String>()
            for n in g.networks {
                if t.network(named: n.name) == nil {
                    dangling(
                        &d, "\(p).network.\(n.name)", at: loc("\(p).network.\(n.name)") ?? loc("\(p).network"),
                        what: "network", n.name, t.networks.map(\.name))
                }
                if !seen.insert(n.name).inserted {
                    d.error(
                        "\(p).network", at: loc("\(p).network"), "network '\(n.name)' is attached twice",
                        hint: "attach each network once")
                }
            }
        }
        for p in t.profiles {
            if let e = p.extends, !profileNames.contains(e) {
                dangling(&d, "profiles.\(p.name).extends", what: "profile", e, profileNames.filter { $0 != p.name })
            }
        }
    }

    private func dangling(
        _ d: inout Diagnostics, _ path: String, at: FileLocation? = nil, what: String, _ name: String,
        _ candidates: [String]
    ) {
        var hint = candidates.isEmpty ? "define it first" : "one of: \(candidates.joined(separator: ", "))"
        if let near = Spelling.closest(to: name, in: candidates) { hint = "did you mean '\(near)'?" }
        d.error(path, at: at ?? loc(path), "no \(what) named '\(shown(name))'", hint: hint)
    }

    // MARK: profiles

    func checkProfiles(_ d: inout Diagnostics) {
        for p in t.profiles {
            if case .failure(let chain) = ProfileResolver(topology: t).resolve(p.name), chain.missing == nil {
                d.error(
                    "profiles.\(p.name).extends", at: loc("profiles.\(p.name).extends"),
                    "profiles extend each other in a cycle: \(chain.joined(separator: " → "))",
                    hint: "one profile of the cycle must not extend another")
            }
        }
    }

    // MARK: addresses

    func checkAddresses(_ d: inout Diagnostics) {
        var allocator = AddressAllocator(topology: t)
        let result = allocator.allocate()
        for issue in result.issues {
            let other = issue.otherPath.map(atLine) ?? ""
            d.error(issue.path, at: loc(issue.path) ?? loc(issue.fallbackPath), issue.message + other, hint: issue.hint)
        }
    }

    // MARK: pinning

    func checkPinning(_ d: inout Diagnostics) {
        var seenHosts = Set<String>()
        for h in t.hosts where seenHosts.insert(h.name).inserted {
            var claimed: [(machine: String, cpus: CPUSet)] = []
            for g in t.machines where g.host == h.name {
                guard let (set, pinnedAt) = explicitPinning(g) else { continue }
                if checkPinned(set, at: pinnedAt, of: g, on: h, claimed: claimed, &d) { claimed.append((g.name, set)) }
            }
            if let cpus = h.cpus, let reserved = h.reservedCPUs, !cpus.intersection(reserved).isEmpty {
                d.error(
                    "hosts.\(h.name)", at: loc("hosts.\(h.name)"), "cpus \(cpus) and reservedCPUs \(reserved) overlap",
                    hint: "cpus are for vCPUs, reservedCPUs for the host; keep them apart")
            }
            checkAutoPinning(h, claimed: claimed, &d)
        }
    }

    /// The host CPUs a machine group is pinned to (by itself or its profile), and the path that says so.
    private func explicitPinning(_ g: MachineGroup) -> (CPUSet, String)? {
        let p = "machines.\(g.name)"
        guard let profile = try? ProfileResolver(topology: t).resolve(g.profile).get() else { return nil }
        if let pin = g.pinning { return (pin, "\(p).pinning") }
        if case .cpus(let set) = profile.pinning { return (set, "\(p).profile") }
        return nil
    }

    /// Checks one group's pinned CPUs against its vCPUs, its host and the CPUs already claimed on that host.
    /// False when the set has the wrong size (and so claims nothing).
    private func checkPinned(
        _ set: CPUSet, at pinnedAt: String, of g: MachineGroup, on h: LabHost,
        claimed: [(machine: String, cpus: CPUSet)], _ d: inout Diagnostics
    ) -> Bool {
        let p = "machines.\(g.name)"
        let n = g.instanceNames.count
        // One host CPU per vCPU; an overcommitted host may give every instance the same vcpus-sized set.
        let sharedOK = h.overcommit && set.count == g.vcpus
        if set.count != g.vcpus * n && !sharedOK {
            let need = g.vcpus * n
            d.error(
                pinnedAt, at: loc(pinnedAt) ?? loc(p),
                "pinning \(set) has \(set.count) CPUs for \(n == 1 ? "" : "\(n) machines × ")\(g.vcpus) vCPUs",
                hint: "give exactly \(need) host CPUs (one per vCPU), or use pinning: auto")
            return false
        }
        if let allowed = h.cpus, !set.isSubset(of: allowed) {
            d.error(
                pinnedAt, at: loc(pinnedAt) ?? loc(p),
                "pinning \(set) uses CPUs \(set.subtracting(allowed)) outside host '\(h.name)' cpus \(allowed)",
                hint: "pin within \(allowed), or widen hosts[].cpus")
        }
        if let reserved = h.reservedCPUs, !set.intersection(reserved).isEmpty {
            d.error(
                pinnedAt, at: loc(pinnedAt) ?? loc(p),
                "pinning \(set) uses reserved CPUs \(set.intersection(reserved)) of host '\(h.name)'",
                hint: "reserved CPUs are kept for the host, emulator and I/O threads; pin elsewhere")
        }
        if !h.overcommit {
            for c in claimed {
                let both = c.cpus.intersection(set)
                if !both.isEmpty {
                    d.error(
                        pinnedAt, at: loc(pinnedAt) ?? loc(p),
                        "pinned CPUs \(both) of '\(g.name)' overlap those of '\(c.machine)' on host '\(h.name)'",
                        hint: "give each machine its own host CPUs, or set overcommit: true on the host (CI only)")
                }
            }
        }
        return true
    }

    /// Auto pinning: checks capacity when the host's CPUs are declared.
    private func checkAutoPinning(_ h: LabHost, claimed: [(machine: String, cpus: CPUSet)], _ d: inout Diagnostics) {
        guard let cpus = h.cpus, !h.overcommit else { return }
        let explicitUse = claimed.reduce(CPUSet.empty) { $0.union($1.cpus) }
        let free = cpus.subtracting(explicitUse).subtracting(h.effectiveReservedCPUs(usable: cpus))
        var autoNeed = 0
        var autoNames: [String] = []
        for g in t.machines where g.host == h.name && g.pinning == nil {
            if let pr = try? ProfileResolver(topology: t).resolve(g.profile).get(), pr.pinning == .auto {
                autoNeed += g.vcpus * g.instanceNames.count
                autoNames.append(g.name)
            }
        }
        if autoNeed > free.count {
            d.error(
                "hosts.\(h.name).cpus", at: loc("hosts.\(h.name).cpus") ?? loc("hosts.\(h.name)"),
                "machines with pinning: auto (\(autoNames.joined(separator: ", "))) need \(autoNeed) host CPUs, but only \(free.count) are free on '\(h.name)'",
                hint: "fewer vCPUs, more host CPUs, or overcommit: true (CI only)")
        }
    }

    // MARK: memory

    func checkMemory(_ d: inout Diagnostics) {
        for g in t.machines {
            guard let profile = try? ProfileResolver(topology: t).resolve(g.profile).get(),
                let page = profile.hugepages.pageSize
            else { continue }
            if g.memory.bytes % page.bytes != 0 {
                // Sizes are capped at parse (ByteSize.largest), so this cannot overflow; saturate anyway.
                let (up, overflow) = (g.memory.bytes / page.bytes + 1).multipliedReportingOverflow(by: page.bytes)
                d.error(
                    "machines.\(g.name).memory", at: loc("machines.\(g.name).memory") ?? loc("machines.\(g.name)"),
                    "\(g.memory) is not a multiple of the \(profile.hugepages.rawValue) hugepage size of profile '\(profile.name)'",
                    hint: "use \(overflow ? "a smaller" : "\(ByteSize(bytes: up)) or another") multiple of \(page)")
            }
        }
    }

    // MARK: virtualization

    func checkVirtualization(_ d: inout Diagnostics) {
        for g in t.machines {
            guard let profile = try? ProfileResolver(topology: t).resolve(g.profile).get() else { continue }
            let accel = g.accel ?? t.host(named: g.host)?.accel ?? .auto
            let p = "machines.\(g.name)"
            if profile.nested && accel == .tcg {
                d.error(
                    g.accel != nil ? "\(p).accel" : p, at: loc("\(p).accel") ?? loc(p),
                    "profile '\(profile.name)' asks for nested virtualization, which needs KVM, but accel is tcg",
                    hint: "use accel: kvm (or auto), or a profile with cpu.nested: false")
            }
            if profile.nested && (profile.cpuMode == .default || profile.cpuMode == .maximum) {
                d.error(
                    "profiles.\(profile.name)", at: loc("profiles.\(profile.name)") ?? loc(p),
                    "nested virtualization needs cpu.mode host-passthrough or host-model, not \(profile.cpuMode.rawValue)",
                    hint: "set cpu.mode: host-passthrough")
            }
            if profile.cpuMode == .hostPassthrough && accel == .tcg {
                d.warning(
                    p, at: loc(p),
                    "cpu.mode host-passthrough needs KVM; under tcg nestlab uses QEMU's 'max' model instead",
                    hint: "set cpu.mode: maximum in a profile for TCG machines to say so")
            }
            if profile.diskIO == .native && ![DiskCache.none, .directsync].contains(profile.diskCache) {
                d.error(
                    "profiles.\(profile.name)", at: loc("profiles.\(profile.name)") ?? loc(p),
                    "disk.io native needs direct I/O, but disk.cache is \(profile.diskCache.rawValue)",
                    hint: "set disk.cache: none (or directsync), or disk.io: threads")
            }
            if profile.iothreadPin != .none && !profile.iothread {
                d.warning(
                    "profiles.\(profile.name)", at: loc("profiles.\(profile.name)") ?? loc(p),
                    "iothreadPin is set but disk.iothread is false, so there is no I/O thread to pin",
                    hint: "set disk.iothread: true, or drop iothreadPin")
            }
            if case .count(let q) = profile.netQueues, q > g.vcpus {
                d.warning(
                    p, at: loc(p), "\(q) network queues for \(g.vcpus) vCPUs; extra queues are never used",
                    hint: "use net.queues: auto (one per vCPU)")
            }
        }
    }

    // MARK: clusters

    func checkClusters(_ d: inout Diagnostics) {
        // machine instance or host:NAME → its cluster and role
        var member: [String: (cluster: String, role: String)] = [:]
        for c in t.clusters {
            checkControlPlane(c, &d)
            checkMembers(c, &member, &d)
            checkClusterNetworks(c, &d)
            checkKubelet(c, &d)
            checkSnapshotter(c, &d)
            checkKubeVirtEmulation(c, &d)
            checkNestedKVM(c, &d)
        }
    }

    /// A cluster's control plane (one node) and its Kubernetes version.
    private func checkControlPlane(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        if c.controlPlane.isEmpty {
            d.error(
                "\(p).controlPlane", at: loc(p), "cluster '\(c.name)' has no control plane",
                hint: "add controlPlane: [<machine or host:NAME>]"
                    + (c.workers.isEmpty ? "" : "; workers cannot join without one"))
        }
        let cpNodes = c.controlPlane.flatMap { expand($0) }
        if cpNodes.count > 1 {
            d.error(
                "\(p).controlPlane", at: loc("\(p).controlPlane"),
                "cluster '\(c.name)' has \(cpNodes.count) control-plane nodes; nestlab builds single control-plane clusters",
                hint: "give one control-plane node and make the others workers")
        }
        switch Versions.resolveKubernetes(c.kubernetes) {
        case .resolved: break
        case .malformed(let v):
            d.error(
                "\(p).kubernetes", at: loc("\(p).kubernetes") ?? loc(p), "'\(v)' is not a Kubernetes version",
                hint: "a version such as 1.33 or 1.33.4")
        case .tooOld(let v):
            d.error(
                "\(p).kubernetes", at: loc("\(p).kubernetes") ?? loc(p),
                "Kubernetes \(v) is older than 1.\(Versions.minimumKubernetesMinor), which kubeadm v1beta4 needs",
                hint: "1.\(Versions.minimumKubernetesMinor) or newer")
        case .unknownMinor(let v):
            d.error(
                "\(p).kubernetes", at: loc("\(p).kubernetes") ?? loc(p),
                "Kubernetes \(v) cannot be resolved to a release",
                hint: "a minor nestlab knows (\(Versions.knownMinors)), or an exact version such as \(v).0")
        }
    }

    /// Each node a cluster names exists, and belongs to one cluster, once.
    private func checkMembers(
        _ c: Cluster, _ member: inout [String: (cluster: String, role: String)], _ d: inout Diagnostics
    ) {
        let p = "clusters.\(c.name)"
        // Each reference at its own line: a worker that is also the control plane is reported at the worker.
        let roles = c.controlPlane.map { ("controlPlane", $0) } + c.workers.map { ("workers", $0) }
        for (role, ref) in roles {
            let refPath = "\(p).\(role).\(ref)"
            switch ref {
            case .machine(let m):
                if t.machineGroup(named: m) == nil && !t.machines.contains(where: { $0.instanceNames.contains(m) }) {
                    dangling(&d, refPath, what: "machine", m, t.machines.map(\.name))
                    continue
                }
            case .host(let h):
                guard let host = t.host(named: h) else {
                    dangling(&d, refPath, what: "host", h, t.hosts.map(\.name))
                    continue
                }
                if host.ssh == nil {
                    d.error(
                        refPath, at: loc(refPath), "bare-metal node host:\(h) has no ssh target",
                        hint: "add ssh: root@\(h) to host '\(h)'")
                }
                if host.address == nil {
                    d.error(
                        refPath, at: loc(refPath), "bare-metal node host:\(h) has no address for the cluster",
                        hint: "add address: <its IPv4 address on the cluster network> to host '\(h)'")
                }
            }
            for inst in expand(ref) {
                if let other = member[inst] {
                    if other.cluster == c.name && other.role != role {
                        d.error(
                            refPath, at: loc(refPath),
                            "'\(inst)' is both the control plane and a worker of cluster '\(c.name)'",
                            hint: "list it once, under controlPlane (the control plane also runs pods)")
                    } else {
                        d.error(
                            refPath, at: loc(refPath),
                            other.cluster == c.name
                                ? "'\(inst)' is listed twice in cluster '\(c.name)'"
                                : "'\(inst)' is in clusters '\(other.cluster)' and '\(c.name)'",
                            hint: "a node belongs to one cluster, once")
                    }
                }
                member[inst] = (c.name, role)
            }
        }
    }

    /// A cluster's pod and service networks, against the lab's networks and each other.
    private func checkClusterNetworks(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        // Addresses: pod and service networks must not collide with the lab's networks.
        for net in t.networks {
            if c.podCIDR.overlaps(net.cidr) {
                d.error(
                    "\(p).podCIDR", at: loc("\(p).podCIDR") ?? loc(p),
                    "pod network \(c.podCIDR) overlaps lab network '\(net.name)' \(net.cidr)\(atLine("networks.\(net.name).cidr"))",
                    hint:
                        "choose a pod CIDR outside \(net.cidr), e.g. \(net.cidr.overlaps(IPv4Network(address: IPv4("10.244.0.0")!, prefix: 16)) ? "172.30.0.0/16" : "10.244.0.0/16")"
                )
            }
            if c.serviceCIDR.overlaps(net.cidr) {
                d.error(
                    "\(p).serviceCIDR", at: loc("\(p).serviceCIDR") ?? loc(p),
                    "service network \(c.serviceCIDR) overlaps lab network '\(net.name)' \(net.cidr)\(atLine("networks.\(net.name).cidr"))",
                    hint:
                        "choose a service CIDR outside \(net.cidr), e.g. \(net.cidr.overlaps(IPv4Network(address: IPv4("10.96.0.0")!, prefix: 12)) ? "172.31.0.0/16" : "10.96.0.0/12")"
                )
            }
        }
        if c.podCIDR.overlaps(c.serviceCIDR) { podOverlapsServices(c, &d) }
    }

    /// A cluster's kubelet CPU settings, against its nodes.
    private func checkKubelet(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        // Kubelet.
        if c.cpuManagerPolicy == .static && (c.reservedCPUs ?? .empty).isEmpty {
            d.error(
                "\(p).kubelet.cpuManagerPolicy", at: loc("\(p).kubelet.cpuManagerPolicy") ?? loc(p),
                "the static CPU manager needs reserved CPUs, or the kubelet refuses to start",
                hint: "add kubelet.reservedCPUs, e.g. \"0\"")
        }
        if c.topologyManagerPolicy != .none && c.cpuManagerPolicy == .none {
            d.warning(
                "\(p).kubelet.topologyManagerPolicy", at: loc("\(p).kubelet.topologyManagerPolicy") ?? loc(p),
                "topologyManagerPolicy without the static CPU manager only aligns devices, not CPUs",
                hint: "set cpuManagerPolicy: static to align CPUs too")
        }
        if let reserved = c.reservedCPUs {
            for ref in c.allNodes {
                guard case .machine(let m) = ref, let g = group(of: m), let maxCPU = reserved.cpus.last else {
                    continue
                }
                if maxCPU >= g.vcpus {
                    d.error(
                        "\(p).kubelet.reservedCPUs", at: loc("\(p).kubelet.reservedCPUs") ?? loc(p),
                        "reserved CPU \(maxCPU) does not exist in '\(g.name)', which has \(g.vcpus) vCPUs (0-\(g.vcpus - 1))",
                        hint: "reserve CPUs below \(g.vcpus)")
                } else if reserved.count >= g.vcpus {
                    d.error(
                        "\(p).kubelet.reservedCPUs", at: loc("\(p).kubelet.reservedCPUs") ?? loc(p),
                        "reservedCPUs \(reserved) leave no CPU for pods on '\(g.name)' (\(g.vcpus) vCPUs)",
                        hint: "reserve fewer CPUs, or give the machine more vCPUs")
                }
            }
        }
    }

    /// A containerd that can give urunc and kata-fc their snapshotter.
    private func checkSnapshotter(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        // urunc and kata-fc need a per-runtime snapshotter (devmapper), which containerd has from 1.7.
        let needsSnapshotter = c.runtimes.contains { rt in
            switch rt {
            case .urunc: return true
            case .kata(let k): return k.hypervisors.contains(.fc)
            default: return false
            }
        }
        if needsSnapshotter && c.containerd == "distro" {
            let debianNodes = c.allNodes.compactMap { ref -> String? in
                switch ref {
                case .machine(let m):
                    guard let g = group(of: m), let img = t.image(named: g.image), img.os == .debian12 else {
                        return nil
                    }
                    return g.name
                case .host(let h):
                    return t.host(named: h)?.os == .debian12 ? "host:\(h)" : nil
                }
            }
            if !debianNodes.isEmpty {
                let rp = "\(p).containerd"
                d.error(
                    rp, at: loc("\(p).runtimes") ?? loc(p),
                    "urunc and kata-fc need containerd 1.7 or newer (a per-runtime devmapper snapshotter), but Debian 12's package on \(debianNodes.joined(separator: ", ")) is 1.6",
                    hint: "set containerd: 2.1.4 (a pinned release), or use an Ubuntu 24.04 image")
            }
        }
    }

    /// KubeVirt's emulation: auto, on VM nodes without nested virtualization.
    private func checkKubeVirtEmulation(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        // KubeVirt with emulation: auto emulates on VM nodes without nested virtualization: say so.
        for rt in c.runtimes {
            guard case .kubevirt(let kv) = rt, kv.emulation == .auto else { continue }
            let lacking = c.allNodes.compactMap { ref -> String? in
                guard case .machine(let m) = ref, let g = group(of: m),
                    let profile = try? ProfileResolver(topology: t).resolve(g.profile).get(), !profile.nested
                else { return nil }
                return g.name
            }
            if !lacking.isEmpty {
                let rp = "\(p).runtimes.kubevirt"
                d.warning(
                    rp, at: loc(rp) ?? loc(p),
                    "VM nodes \(lacking.map { "'\($0)'" }.joined(separator: ", ")) have no nested virtualization, so KubeVirt will run its VMs with useEmulation (software emulation): not the tuned configuration",
                    hint: "give them a profile with cpu.nested: true, or set emulation: on to make this explicit")
            }
        }
    }

    /// Runtimes that need /dev/kvm, on VM nodes without nested virtualization.
    private func checkNestedKVM(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        // Runtimes that need /dev/kvm inside VM nodes need nested virtualization.
        for rt in c.runtimes where rt.needsKVM {
            var lacking: [(group: String, profile: String)] = []
            for ref in c.allNodes {
                guard case .machine(let m) = ref, let g = group(of: m),
                    let profile = try? ProfileResolver(topology: t).resolve(g.profile).get()
                else { continue }
                if !profile.nested && !lacking.contains(where: { $0.group == g.name }) {
                    lacking.append((g.name, profile.name))
                }
            }
            guard !lacking.isEmpty else { continue }
            let rp = "\(p).runtimes.\(rt.name)"
            let nodes = lacking.map { "'\($0.group)' (profile '\($0.profile)')" }.joined(separator: ", ")
            let fix: String
            switch rt {
            case .kubevirt:
                fix = "give those machines a profile with cpu.nested: true, or set runtimes.kubevirt.emulation: on"
            case .urunc:
                fix =
                    "give those machines a profile with cpu.nested: true (urunc's qemu and firecracker monitors need KVM)"
            default: fix = "give those machines a profile with cpu.nested: true, e.g. paper-mitigated"
            }
            d.error(
                rp, at: loc(rp) ?? loc(p),
                "\(rt.name) needs /dev/kvm inside VM nodes, but \(nodes) \(lacking.count == 1 ? "has" : "have") no nested virtualization",
                hint: fix)
        }
    }

    /// Reported at the CIDR the user wrote (the service one when both are), naming the other's line.
    private func podOverlapsServices(_ c: Cluster, _ d: inout Diagnostics) {
        let p = "clusters.\(c.name)"
        let hint = "keep them apart, e.g. pods 10.244.0.0/16 and services 10.96.0.0/12"
        if loc("\(p).serviceCIDR") != nil {
            let pod = loc("\(p).podCIDR") == nil ? " (the default)" : atLine("\(p).podCIDR")
            d.error(
                "\(p).serviceCIDR", at: loc("\(p).serviceCIDR"),
                "service network \(c.serviceCIDR) overlaps pod network \(c.podCIDR)\(pod)", hint: hint)
        } else {
            d.error(
                "\(p).podCIDR", at: loc("\(p).podCIDR") ?? loc(p),
                "pod network \(c.podCIDR) overlaps the default service network \(c.serviceCIDR)", hint: hint)
        }
    }

    private func group(of machine: String) -> MachineGroup? {
        t.machineGroup(named: machine) ?? t.machines.first { $0.instanceNames.contains(machine) }
    }

    /// The instances a node reference stands for.
    func expand(_ ref: NodeRef) -> [String] {
        switch ref {
        case .host(let h): return ["host:\(h)"]
        case .machine(let m):
            if let g = t.machineGroup(named: m) { return g.instanceNames }
            return [m]
        }
    }

    // MARK: unused

    func checkUnused(_ d: inout Diagnostics) {
        let usedImages = Set(t.machines.map(\.image))
        for i in t.images where !usedImages.contains(i.name) {
            d.warning(
                "images.\(i.name)", at: loc("images.\(i.name)"), "image '\(i.name)' is not used by any machine",
                hint: "remove it, or reference it from a machine")
        }
        let usedNets = Set(t.machines.flatMap { $0.networks.map(\.name) })
        for n in t.networks where !usedNets.contains(n.name) {
            d.warning(
                "networks.\(n.name)", at: loc("networks.\(n.name)"), "network '\(n.name)' is not used by any machine",
                hint: n.mode == .bridge
                    ? "remove it if it is not needed"
                    : "it is not created until a machine uses it; remove it if it is not needed")
        }
        var usedProfiles = Set(t.machines.map(\.profile))
        for p in t.profiles { if let e = p.extends { usedProfiles.insert(e) } }
        for p in t.profiles where !usedProfiles.contains(p.name) {
            d.warning(
                "profiles.\(p.name)", at: loc("profiles.\(p.name)"), "profile '\(p.name)' is not used",
                hint: "reference it from a machine's 'profile'")
        }
    }
}
