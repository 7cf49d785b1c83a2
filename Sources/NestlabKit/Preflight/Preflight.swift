import Foundation
import Libvirt
import NestlabCore
import Spawn

/// `nestlab preflight`: host checks before anything is created.
///
/// Checks what commonly makes a testbed silently wrong or fail halfway: KVM
/// that exists but does not run guests, nested virtualization that is off,
/// hugepages that are not reserved or whose hugetlbfs is not mounted, too few
/// CPUs for the pinning, missing tools.
public enum Preflight {
    /// Checks every host a lab uses.
    public static func run(session s: LabSession) async throws -> PreflightReport {
        // All hosts at once; the findings in the hosts' order.
        let perHost = try await withThrowingTaskGroup(of: (String, [Finding]).self) { group in
            for (hostName, hs) in s.sessions {
                group.addTask {
                    let machines = s.lab.machines(on: hostName)
                    return (
                        hostName,
                        try await Blocking.run {
                            let running = Set(
                                try hs.labDomains(s.lab.name).filter { try $0.domain.isActive() }.map(\.meta.machine))
                            return try check(
                                hs, machines: machines, alreadyRunning: running, topology: s.topology, images: s.images)
                        }
                    )
                }
            }
            var out: [String: [Finding]] = [:]
            for try await (h, f) in group { out[h] = f }
            return out
        }
        return PreflightReport(lab: s.lab.name, findings: perHost.sorted { $0.key < $1.key }.flatMap(\.value))
    }

    /// Checks a host without a topology (`nestlab preflight` with no file).
    public static func run(host: LabHost) async throws -> PreflightReport {
        let hs: HostSession
        do {
            hs = try HostSession(host: host)
        } catch {
            return PreflightReport(
                lab: nil,
                findings: [
                    Finding(
                        host: host.name, check: "libvirt", level: .error, message: "\(error)",
                        fix: "libvirtd -d && virtlogd -d   (as root; or check the URI)")
                ])
        }
        return PreflightReport(
            lab: nil,
            findings: try await Blocking.run {
                try check(hs, machines: [], alreadyRunning: [], topology: nil, images: [:])
            })
    }

    /// Every host bridge that this host's machines are put on must exist there, be a bridge
    /// and be up: libvirt only finds out when the domain starts.
    static func bridgeFindings(_ hs: HostSession, bridges: Set<String>) -> [Finding] {
        let h = hs.host.name
        return bridges.sorted().map { br in
            let fix =
                "ip link add \(br) type bridge && ip link set \(br) up   (on \(h); and join it to the other hosts' bridges)"
            let iface: Interface?
            do {
                iface = try hs.connection.interfaceIfExists(named: br)
            } catch {
                return Finding(
                    host: h, check: "bridge", level: .warning,
                    message: "cannot ask libvirt at \(hs.host.libvirt) about bridge \(br): \(error)", fix: nil)
            }
            guard let iface else {
                return Finding(
                    host: h, check: "bridge", level: .error, message: "bridge \(br) does not exist on host '\(h)'",
                    fix: fix)
            }
            let type = (try? iface.type()) ?? nil
            if let type, type != "bridge" {
                return Finding(
                    host: h, check: "bridge", level: .error,
                    message: "\(br) on host '\(h)' is a \(type) interface, not a bridge",
                    fix: fix)
            }
            guard (try? iface.isActive()) == true else {
                return Finding(
                    host: h, check: "bridge", level: .error, message: "bridge \(br) on host '\(h)' is down",
                    fix: "ip link set \(br) up")
            }
            return Finding(host: h, check: "bridge", level: .ok, message: "bridge \(br) exists and is up")
        }
    }

    static func check(
        _ hs: HostSession, machines: [Machine], alreadyRunning: Set<String>, topology: Topology?,
        images: [String: LocalImage]
    ) throws -> [Finding] {
        var c = HostChecks(hs: hs, machines: machines, topology: topology)
        let hvError = c.checkLibvirt()
        if hs.isTestDriver {
            c.add("hardware", .ok, "test driver: KVM, hugepage and CPU checks do not apply")
            return c.findings
        }
        if c.local { c.checkPermissions() }
        if let hvError {
            c.add(
                "qemu", .error, "libvirt reports no usable QEMU at \(hs.host.libvirt): \(hvError)",
                fix: "apt-get install qemu-system-x86; check /var/log/libvirt for why the QEMU probe failed")
        }
        let kvmOK = try c.checkKVM()
        c.checkNested()
        c.checkHugepages(alreadyRunning: alreadyRunning)
        try c.checkPinning(kvmOK: kvmOK)
        c.findings += bridgeFindings(
            hs,
            bridges: Set(
                machines.flatMap { $0.nics.filter { $0.network.mode == .bridge }.compactMap(\.network.bridge) }))
        if c.local { c.checkLocalTools(images: images) }
        c.checkSSH()
        return c.findings
    }

    /// The findings of one host, gathered by `check` in its order.
    private struct HostChecks {
        let hs: HostSession
        let machines: [Machine]
        let topology: Topology?
        var findings: [Finding] = []

        var host: LabHost { hs.host }
        var h: String { hs.host.name }
        var local: Bool { hs.host.isLocal }

        mutating func add(_ check: String, _ level: Finding.Level, _ message: String, fix: String? = nil) {
            findings.append(Finding(host: h, check: check, level: level, message: message, fix: fix))
        }

        /// libvirt and QEMU; returns why the hypervisor version could not be read, if it could not.
        mutating func checkLibvirt() -> String? {
            let lv = (try? hs.connection.libVersion()).map(\.description) ?? "?"
            var hvError: String?
            let hv: String
            do { hv = try hs.connection.hypervisorVersion()?.description ?? "?" } catch {
                hv = "?"
                hvError = error.message
            }
            let hvType = (try? hs.connection.hypervisorType()) ?? "?"
            add("libvirt", .ok, "reachable at \(host.libvirt): libvirt \(lv), \(hvType) \(hv)")
            return hvError
        }

        /// QEMU runs as an unprivileged user (libvirt-qemu on Debian) and must be able to walk
        /// to its modules and to the pools; a root directory at 0700 breaks every probe, and
        /// libvirt then only says "Cannot find suitable emulator".
        mutating func checkPermissions() {
            for dir in ["/", "/usr", "/usr/lib", "/var", "/var/lib"] {
                var st = stat()
                if stat(dir, &st) == 0, st.st_mode & S_IXOTH == 0 {
                    add(
                        "permissions", .error,
                        "\(dir) is mode \(String(st.st_mode & 0o7777, radix: 8)): QEMU, which libvirt runs as an unprivileged user, cannot reach its modules or the disk images",
                        fix: "chmod o+x \(dir), then restart libvirtd")
                }
            }
        }

        /// Accelerator; returns whether KVM works here.
        mutating func checkKVM() throws -> Bool {
            let needKVM = machines.contains { $0.accel == .kvm }
            let wantsKVM =
                machines.contains { $0.accel == .kvm }
                || topology.map { t in
                    t.machines.contains { ($0.accel ?? host.accel) == .auto && $0.host == h }
                } ?? true
            let (kvmOK, kvmWhy) = try kvmUsable()
            if kvmOK {
                add("kvm", .ok, kvmWhy)
            } else if needKVM {
                add(
                    "kvm", .error, "machines ask for accel: kvm, but KVM does not work here: \(kvmWhy)",
                    fix:
                        "enable VT-x/AMD-V (and nested virtualization when this host is itself a VM), or set accel: tcg"
                )
            } else if wantsKVM {
                add(
                    "kvm", .warning,
                    "KVM does not work here (\(kvmWhy)); accel: auto machines run under TCG, far slower",
                    fix: "set accel: tcg to say so, or enable hardware virtualization")
            } else {
                add("kvm", .ok, "not needed (all machines use TCG); \(kvmWhy)")
            }
            return kvmOK
        }

        private func kvmUsable() throws -> (Bool, String) {
            let quick = try KVMCheck.quick(hs)
            var kvmOK = quick.usable
            var kvmWhy = quick.reason
            if kvmOK && local {
                if access("/dev/kvm", R_OK | W_OK) != 0 {
                    kvmOK = false
                    kvmWhy = "/dev/kvm is not accessible: \(String(cString: strerror(errno)))"
                } else if let probe = KVMProbe.run() {
                    kvmOK = probe.ok
                    kvmWhy = probe.detail
                }
            }
            return (kvmOK, kvmWhy)
        }

        /// Nested virtualization for machines that pass it through.
        mutating func checkNested() {
            let nested = machines.filter { $0.profile.nested && $0.accel == .kvm }
            guard !nested.isEmpty else { return }
            guard local else {
                add(
                    "nested", .warning, "cannot read the kvm module's nested parameter on a remote host",
                    fix: "on \(h): cat /sys/module/kvm_*/parameters/nested (must be Y or 1)")
                return
            }
            let param = ["/sys/module/kvm_intel/parameters/nested", "/sys/module/kvm_amd/parameters/nested"]
                .compactMap {
                    try? String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                }.first
            if let p = param, p == "Y" || p == "1" {
                add("nested", .ok, "nested virtualization is on (kvm module parameter nested=\(p))")
            } else {
                let mod = (machines.first?.cpuVendor ?? .intel) == .amd ? "kvm_amd" : "kvm_intel"
                add(
                    "nested", .error,
                    "machines \(nested.map(\.name).joined(separator: ", ")) need nested virtualization, but \(mod) nested=\(param ?? "unknown")",
                    fix:
                        "modprobe -r \(mod) && modprobe \(mod) nested=1   (and echo 'options \(mod) nested=1' > /etc/modprobe.d/nested.conf)"
                )
            }
        }

        /// Hugepages: enough free pages of each size for the machines this run starts, and hugetlbfs mounted.
        mutating func checkHugepages(alreadyRunning: Set<String>) {
            var needPages: [UInt64: UInt64] = [:]  // page KiB → pages
            for m in machines where !alreadyRunning.contains(m.name) {
                guard let size = m.profile.hugepages.pageSize else { continue }
                needPages[size.kib, default: 0] += m.memory.bytes / size.bytes
            }
            for (kib, pages) in needPages.sorted(by: { $0.key < $1.key }) {
                let label = kib >= 1 << 20 ? "1G" : "2M"
                checkFreePages(kib: kib, pages: pages, label: label)
                if local { checkHugetlbfs(kib: kib, label: label) }
            }
        }

        private mutating func checkFreePages(kib: UInt64, pages: UInt64, label: String) {
            let free = (try? hs.connection.freePages(sizesKiB: [UInt32(kib)]))?.values.reduce(0, +) ?? 0
            if free >= pages {
                add("hugepages \(label)", .ok, "\(free) free, \(pages) needed")
                return
            }
            let total =
                local
                ? (try? String(
                    contentsOfFile: "/sys/kernel/mm/hugepages/hugepages-\(kib)kB/nr_hugepages", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) : nil
            add(
                "hugepages \(label)", .error,
                "\(pages) pages of \(label) needed, \(free) free" + (total.map { " (\($0) reserved)" } ?? ""),
                fix:
                    "echo \(pages + (UInt64(total ?? "0") ?? 0) - free) > /sys/kernel/mm/hugepages/hugepages-\(kib)kB/nr_hugepages"
                    + (kib >= 1 << 20 ? "   (1G pages are best reserved at boot: hugepagesz=1G hugepages=N)" : ""))
        }

        private mutating func checkHugetlbfs(kib: UInt64, label: String) {
            let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
            let hugetlb = mounts.split(separator: "\n").filter {
                $0.split(separator: " ").count > 2 && $0.split(separator: " ")[2] == "hugetlbfs"
            }
            let matching = hugetlb.filter { line in
                let opts = line.split(separator: " ").count > 3 ? String(line.split(separator: " ")[3]) : ""
                if let ps = opts.split(separator: ",").first(where: { $0.hasPrefix("pagesize=") }) {
                    let v = ps.dropFirst("pagesize=".count).uppercased()
                    return (kib >= 1 << 20) ? (v == "1G" || v == "1024M") : (v == "2M")
                }
                return kib == 2048  // a mount without pagesize= uses the default size, 2M on x86-64
            }
            if matching.isEmpty {
                let dir = kib >= 1 << 20 ? "/dev/hugepages1G" : "/dev/hugepages"
                add(
                    "hugetlbfs \(label)", .error,
                    "no hugetlbfs mount for \(label) pages, so libvirt cannot back guest memory with them",
                    fix:
                        "mkdir -p \(dir) && mount -t hugetlbfs \(kib >= 1 << 20 ? "-o pagesize=1G " : "")hugetlbfs \(dir), then restart libvirtd"
                )
            } else {
                add("hugetlbfs \(label)", .ok, "mounted at \(matching[0].split(separator: " ")[1])")
            }
        }

        /// CPUs for pinning.
        mutating func checkPinning(kvmOK: Bool) throws {
            let pinned = machines.reduce(CPUSet.empty) { acc, m in m.vcpuPins.reduce(acc) { $0.union($1) } }
            guard !pinned.isEmpty else { return }
            let facts = try hs.facts(kvmUsable: kvmOK)
            let missing = pinned.subtracting(facts.onlineCPUs)
            if !missing.isEmpty {
                add(
                    "cpus", .error,
                    "pinning uses CPUs \(missing) that host \(h) does not have (online: \(facts.onlineCPUs))",
                    fix: "pin within \(facts.onlineCPUs), or use pinning: auto")
            } else {
                add("cpus", .ok, "\(pinned.count) pinned CPUs (\(pinned)) of \(facts.onlineCPUs.count) online")
            }
            if local { checkIsolation(pinned) }
        }

        private mutating func checkIsolation(_ pinned: CPUSet) {
            let iso =
                (try? String(contentsOfFile: "/sys/devices/system/cpu/isolated", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let isolated = iso.isEmpty ? CPUSet.empty : ((try? CPUSet.parse(iso).get()) ?? .empty)
            let notIsolated = pinned.subtracting(isolated)
            if notIsolated.isEmpty {
                add("isolation", .ok, "pinned CPUs are isolated (\(isolated))")
            } else {
                add(
                    "isolation", .warning,
                    "pinned CPUs \(notIsolated) are not isolated, so host tasks can still run on them",
                    fix:
                        "boot the host with isolcpus=\(notIsolated) nohz_full=\(notIsolated) (and use the tuned profile virtual-host)"
                )
            }
        }

        /// Tools and files nestlab or libvirt need here.
        mutating func checkLocalTools(images: [String: LocalImage]) {
            if topology?.networks.contains(where: { $0.mode != .bridge }) ?? false {
                if let p = Preflight.which("dnsmasq") {
                    add("dnsmasq", .ok, "\(p) (libvirt's NAT/isolated networks need it)")
                } else {
                    add(
                        "dnsmasq", .error, "dnsmasq is missing; libvirt cannot start NAT or isolated networks",
                        fix: "apt-get install dnsmasq-base")
                }
            }
            for img in images.values {
                for file in [img.disk.path, img.kernel?.path, img.initrd?.path].compactMap({ $0 })
                where access(file, R_OK) != 0 {
                    add("image", .error, "cannot read \(file)", fix: "check the path in images.\(img.image.name)")
                }
            }
        }

        mutating func checkSSH() {
            guard let t = topology,
                t.clusters.contains(where: {
                    $0.allNodes.contains { if case .host = $0 { return true } else { return false } }
                })
            else { return }
            if let p = Preflight.which("ssh") {
                add("ssh", .ok, "\(p) (bare-metal nodes are bootstrapped over SSH)")
            } else {
                add(
                    "ssh", .error, "the OpenSSH client is missing; bare-metal nodes cannot be bootstrapped",
                    fix: "apt-get install openssh-client")
            }
        }
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in (path + ":/usr/sbin:/sbin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }
}
