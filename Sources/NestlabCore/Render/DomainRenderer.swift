import Foundation

/// Renders a machine's libvirt domain XML.
public enum DomainRenderer {
    public struct Input: Sendable {
        public var machine: Machine
        public var lab: String
        public var base: BaseVolumeRef
        public var seedVolume: String
        public var spec: MachineSpec

        public init(machine: Machine, lab: String, base: BaseVolumeRef, seedVolume: String, spec: MachineSpec) {
            self.machine = machine
            self.lab = lab
            self.base = base
            self.seedVolume = seedVolume
            self.spec = spec
        }
    }

    /// Queues for virtio-net multiqueue; one per vCPU under `auto`.
    static func queues(_ m: Machine) -> Int? {
        switch m.profile.netQueues {
        case .none: return nil
        case .auto: return m.vcpus > 1 ? m.vcpus : nil
        case .count(let n): return n > 1 ? n : nil
        }
    }

    /// The CPU model libvirt gets: TCG cannot pass the host CPU through, so it gets QEMU's `max`.
    static func cpuModeDescription(_ m: Machine) -> String {
        if m.accel == .tcg { return "maximum" }
        var s = m.profile.cpuMode.rawValue
        if m.profile.nested { s += "+\(m.cpuVendor.virtFeature)" }
        return s
    }

    public static func metadata(_ input: Input) -> XMLElement {
        let m = input.machine
        let ns = NestlabXMLNS.prefix
        var attrs = [("xmlns:\(ns)", NestlabXMLNS.uri), ("lab", input.lab), ("machine", m.name)]
        if let c = m.cluster { attrs.append(("cluster", c)) }
        var lab = XMLElement("\(ns):\(NestlabXMLNS.key)", attrs)
        var spec = XMLElement("\(ns):spec", [("digest", input.spec.digest)])
        for (k, v) in input.spec.fields { spec.append(XMLElement("\(ns):field", [("name", k), ("value", v)])) }
        lab.append(spec)
        lab.append(
            XMLElement(
                "\(ns):volume",
                [("role", "overlay"), ("pool", Lab.poolName(lab: input.lab)), ("name", m.overlayVolume)]))
        lab.append(
            XMLElement(
                "\(ns):volume", [("role", "seed"), ("pool", Lab.poolName(lab: input.lab)), ("name", input.seedVolume)]))
        lab.append(
            XMLElement(
                "\(ns):volume", [("role", "base"), ("pool", input.base.disk.pool), ("name", input.base.disk.name)]))
        return lab
    }

    /// The NoCloud seed's disk: a virtio disk, because a SATA cdrom's driver is not in every
    /// initramfs. `up` takes it out of the domain's persistent definition once the guest is
    /// ready, and puts it back before the domain boots again (see `withoutSeed`).
    public static func seedDisk(lab: String, seedVolume: String) -> XMLElement {
        XMLElement(
            "disk", [("type", "volume"), ("device", "disk")],
            [
                .element(XMLElement("driver", [("name", "qemu"), ("type", "raw")])),
                .element(XMLElement("source", [("pool", Lab.poolName(lab: lab)), ("volume", seedVolume)])),
                .element(XMLElement("target", [("dev", "vdb"), ("bus", "virtio")])),
                .element(XMLElement("readonly")),
            ])
    }

    /// A rendered domain without its seed disk and with `metadata` as its nestlab element: the
    /// definition a ready machine keeps, so that its seed (which carries secrets) can leave the pool.
    public static func withoutSeed(_ domain: XMLElement, lab: String, seedVolume: String, metadata: XMLElement)
        -> XMLElement
    {
        let seed = seedDisk(lab: lab, seedVolume: seedVolume)
        var d = domain
        d.children = d.children.map { child in
            guard case .element(var e) = child else { return child }
            switch e.name {
            case "devices":
                e.children.removeAll { if case .element(let disk) = $0 { return disk == seed } else { return false } }
            case "metadata":
                e.children = [.element(metadata)]
            default:
                break
            }
            return .element(e)
        }
        return d
    }

    public static func render(_ input: Input) -> XMLElement {
        let m = input.machine
        let p = m.profile
        var d = XMLElement("domain", [("type", m.accel == .tcg ? "qemu" : "kvm")])
        d.append(XMLElement("name", text: m.domainName))
        d.append(XMLElement("uuid", text: m.uuid))
        d.append(XMLElement("title", text: "nestlab \(input.lab)/\(m.name)"))
        d.append(XMLElement("metadata", [], [.element(metadata(input))]))
        d.append(XMLElement("memory", [("unit", "KiB")], text: "\(m.memory.kib)"))
        if let page = p.hugepages.pageSize {
            // No nodeset: it would name a guest NUMA node; host placement is <numatune>'s job.
            let pageAttrs = [("size", "\(page.kib)"), ("unit", "KiB")]
            d.append(
                XMLElement(
                    "memoryBacking", [],
                    [.element(XMLElement("hugepages", [], [.element(XMLElement("page", pageAttrs))]))]))
        }
        d.append(XMLElement("vcpu", [("placement", "static")], text: "\(m.vcpus)"))
        if p.iothread { d.append(XMLElement("iothreads", text: "1")) }
        if let ct = cputune(m) { d.append(ct) }
        if let n = m.numaNode, p.numa != .none {
            d.append(
                XMLElement(
                    "numatune", [], [.element(XMLElement("memory", [("mode", p.numa.rawValue), ("nodeset", "\(n)")]))]))
        }
        d.append(osElement(input))
        d.append(XMLElement("features", [], [.element(XMLElement("acpi")), .element(XMLElement("apic"))]))
        if let cpu = cpuElement(m) { d.append(cpu) }
        d.append(XMLElement("clock", [("offset", "utc")]))
        d.append(XMLElement("on_poweroff", text: "destroy"))
        d.append(XMLElement("on_reboot", text: "restart"))
        d.append(XMLElement("on_crash", text: "destroy"))
        d.append(devices(input))
        return d
    }

    /// `<cputune>`: vCPU, emulator and I/O thread pins, when any is set.
    private static func cputune(_ m: Machine) -> XMLElement? {
        guard !m.vcpuPins.isEmpty || m.emulatorPin != nil || m.iothreadPin != nil else { return nil }
        var ct = XMLElement("cputune")
        for (i, set) in m.vcpuPins.enumerated() {
            ct.append(XMLElement("vcpupin", [("vcpu", "\(i)"), ("cpuset", set.description)]))
        }
        if let e = m.emulatorPin { ct.append(XMLElement("emulatorpin", [("cpuset", e.description)])) }
        if let io = m.iothreadPin {
            ct.append(XMLElement("iothreadpin", [("iothread", "1"), ("cpuset", io.description)]))
        }
        return ct
    }

    /// `<os>`: boot from the disk, or directly from the image's kernel.
    private static func osElement(_ input: Input) -> XMLElement {
        var os = XMLElement("os")
        os.append(XMLElement("type", [("arch", "x86_64")], text: "hvm"))
        if let k = input.base.kernel {
            os.append(XMLElement("kernel", text: k.path))
            if let i = input.base.initrd { os.append(XMLElement("initrd", text: i.path)) }
            os.append(XMLElement("cmdline", text: input.machine.image.cmdline ?? "root=/dev/vda console=ttyS0"))
        } else {
            os.append(XMLElement("boot", [("dev", "hd")]))
        }
        return os
    }

    /// `<cpu>`: QEMU's maximum model under TCG, or the profile's mode (none for `default`).
    private static func cpuElement(_ m: Machine) -> XMLElement? {
        let p = m.profile
        if m.accel == .tcg { return XMLElement("cpu", [("mode", "maximum"), ("check", "none")]) }
        switch p.cpuMode {
        case .default:
            return nil
        case .hostPassthrough, .hostModel, .maximum:
            var cpu = XMLElement("cpu", [("mode", p.cpuMode.rawValue), ("check", "none")])
            if p.cpuMode == .hostPassthrough { cpu.attributes.append(("migratable", "off")) }
            if p.nested {
                cpu.append(XMLElement("feature", [("policy", "require"), ("name", m.cpuVendor.virtFeature)]))
            }
            return cpu
        }
    }

    /// `<devices>`: the overlay and seed disks, the NICs, the serial console, the guest agent and the RNG.
    private static func devices(_ input: Input) -> XMLElement {
        let m = input.machine
        let p = m.profile
        var dev = XMLElement("devices")
        var driver = [("name", "qemu"), ("type", "qcow2")]
        if p.diskCache != .default { driver.append(("cache", p.diskCache.rawValue)) }
        if p.diskIO != .default { driver.append(("io", p.diskIO.rawValue)) }
        if p.iothread { driver.append(("iothread", "1")) }
        dev.append(
            XMLElement(
                "disk", [("type", "volume"), ("device", "disk")],
                [
                    .element(XMLElement("driver", driver)),
                    .element(
                        XMLElement("source", [("pool", Lab.poolName(lab: input.lab)), ("volume", m.overlayVolume)])),
                    .element(XMLElement("target", [("dev", "vda"), ("bus", "virtio")])),
                ]))
        dev.append(seedDisk(lab: input.lab, seedVolume: input.seedVolume))
        for nic in m.nics { dev.append(interface(nic, of: m)) }
        appendConsoleAndDevices(&dev, input)
        return dev
    }

    /// One `<interface>`: on a libvirt network, or on a host bridge.
    private static func interface(_ nic: NIC, of m: Machine) -> XMLElement {
        var iface: XMLElement
        if let net = nic.libvirtNetwork {
            iface = XMLElement("interface", [("type", "network")])
            iface.append(XMLElement("mac", [("address", nic.mac)]))
            iface.append(XMLElement("source", [("network", net)]))
        } else {
            iface = XMLElement("interface", [("type", "bridge")])
            iface.append(XMLElement("mac", [("address", nic.mac)]))
            iface.append(XMLElement("source", [("bridge", nic.network.bridge ?? "")]))
        }
        iface.append(XMLElement("model", [("type", "virtio")]))
        var drv: [(String, String)] = []
        if m.profile.vhost { drv.append(("name", "vhost")) } else { drv.append(("name", "qemu")) }
        if let q = queues(m) { drv.append(("queues", "\(q)")) }
        iface.append(XMLElement("driver", drv))
        return iface
    }

    /// The serial console (logged on system-mode hosts), the guest agent channel, the RNG and the balloon.
    private static func appendConsoleAndDevices(_ dev: inout XMLElement, _ input: Input) {
        let m = input.machine
        var serial = XMLElement("serial", [("type", "pty")])
        if let log = consoleLogPath(m, lab: input.lab) {
            serial.append(XMLElement("log", [("file", log), ("append", "on")]))
        }
        serial.append(XMLElement("target", [("port", "0")]))
        dev.append(serial)
        dev.append(
            XMLElement(
                "console", [("type", "pty")], [.element(XMLElement("target", [("type", "serial"), ("port", "0")]))]))
        dev.append(
            XMLElement(
                "channel", [("type", "unix")],
                [
                    .element(XMLElement("target", [("type", "virtio"), ("name", "org.qemu.guest_agent.0")]))
                ]))
        dev.append(
            XMLElement(
                "rng", [("model", "virtio")],
                [.element(XMLElement("backend", [("model", "random")], text: "/dev/urandom"))]))
        if m.profile.hugepages != .none { dev.append(XMLElement("memballoon", [("model", "none")])) }
    }

    /// Where libvirt's virtlogd keeps the serial console on a system-mode host.
    public static func consoleLogPath(_ m: Machine, lab: String) -> String? {
        let uri = m.host.libvirt
        guard uri.hasPrefix("qemu"), uri.hasSuffix("/system") else { return nil }
        return "/var/log/libvirt/qemu/\(m.domainName)-console.log"
    }
}
