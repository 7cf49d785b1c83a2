import Foundation

/// nestlab's XML namespace for libvirt `<metadata>`.
public enum NestlabXMLNS {
    public static let uri = "http://nestlab.dev/xmlns/lab/1"
    public static let prefix = "nestlab"
    /// The metadata element's name without prefix (what libvirt's metadata API calls the key).
    public static let key = "nestlab"
}

/// The canonical description of a machine that decides whether libvirt's copy
/// is current: an ordered list of fields, stored in the domain's metadata, and
/// their digest. `up` compares fields to report exactly what drifted.
public struct MachineSpec: Sendable, Hashable {
    public var fields: [(String, String)]

    public init(fields: [(String, String)]) { self.fields = fields }

    public static func == (a: MachineSpec, b: MachineSpec) -> Bool {
        a.fields.map(\.0) == b.fields.map(\.0) && a.fields.map(\.1) == b.fields.map(\.1)
    }

    public func hash(into h: inout Hasher) {
        for (k, v) in fields {
            h.combine(k)
            h.combine(v)
        }
    }

    public var digest: String { Identity.hex(fields.map { "\($0.0)=\($0.1)\n" }.joined()) }

    /// `vcpus 2 → 4, memory 2GiB → 4GiB`
    public func differences(from old: MachineSpec) -> [String] {
        var out: [String] = []
        let oldMap = Dictionary(old.fields, uniquingKeysWith: { a, _ in a })
        let newMap = Dictionary(fields, uniquingKeysWith: { a, _ in a })
        for (k, v) in fields {
            if let o = oldMap[k] {
                if o != v { out.append("\(k) \(o) → \(v)") }
            } else {
                out.append("\(k) (new) → \(v)")
            }
        }
        for (k, o) in old.fields where newMap[k] == nil { out.append("\(k) \(o) → (gone)") }
        return out
    }

    public static func of(_ m: Machine, base: BaseVolumeRef, seedDigest: String) -> MachineSpec {
        let p = m.profile
        var f: [(String, String)] = [
            ("host", m.host.name),
            ("image", base.identity),
            ("profile", p.name),
            ("accel", m.accel.rawValue),
            ("cpu", DomainRenderer.cpuModeDescription(m)),
            ("vcpus", "\(m.vcpus)"),
            ("memory", m.memory.description),
            ("disk", m.disk.description),
            ("vcpupin", m.vcpuPins.isEmpty ? "none" : m.vcpuPins.map(\.description).joined(separator: " ")),
            ("emulatorpin", m.emulatorPin?.description ?? "none"),
            ("iothreadpin", m.iothreadPin?.description ?? "none"),
            ("hugepages", p.hugepages.rawValue),
            ("numa", m.numaNode.map { "\(p.numa.rawValue):\($0)" } ?? "none"),
            ("disk.cache", p.diskCache.rawValue),
            ("disk.io", p.diskIO.rawValue),
            ("disk.iothread", "\(p.iothread)"),
            ("net.queues", DomainRenderer.queues(m).map(String.init) ?? "none"),
            ("net.vhost", "\(p.vhost)"),
        ]
        for (i, n) in m.nics.enumerated() {
            f.append(("nic\(i)", "\(n.network.name) \(n.mac) \(n.address)"))
        }
        if let k = base.kernel { f.append(("kernel", k.identity)) }
        if let i = base.initrd { f.append(("initrd", i.identity)) }
        if let c = m.image.cmdline, base.kernel != nil { f.append(("cmdline", c)) }
        f.append(("seed", seedDigest))
        return MachineSpec(fields: f)
    }
}

/// A volume nestlab placed on a host, referenced by a domain.
public struct VolumeRef: Sendable, Hashable {
    public var pool: String
    public var name: String
    /// Absolute path on the libvirt host.
    public var path: String
    /// Content identity (sha256), recorded in the machine's spec.
    public var identity: String

    public init(pool: String, name: String, path: String, identity: String) {
        self.pool = pool
        self.name = name
        self.path = path
        self.identity = identity
    }
}

/// The base image (and direct-boot kernel and initrd) on a host.
public struct BaseVolumeRef: Sendable, Hashable {
    public var disk: VolumeRef
    public var format: Image.Format
    public var kernel: VolumeRef?
    public var initrd: VolumeRef?
    public var identity: String { disk.identity }

    public init(disk: VolumeRef, format: Image.Format, kernel: VolumeRef? = nil, initrd: VolumeRef? = nil) {
        self.disk = disk
        self.format = format
        self.kernel = kernel
        self.initrd = initrd
    }
}

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

/// Renders libvirt network XML for a lab network.
public enum NetworkRenderer {
    public static func render(_ net: LabNetwork, machines: [Machine]) -> XMLElement? {
        let n = net.network
        guard n.mode != .bridge else { return nil }
        var x = XMLElement("network")
        x.append(XMLElement("name", text: net.libvirtName))
        x.append(XMLElement("uuid", text: net.uuid))
        if n.mode == .nat { x.append(XMLElement("forward", [("mode", "nat")])) }
        x.append(XMLElement("bridge", [("name", net.bridgeName), ("stp", "on"), ("delay", "0")]))
        var ip = XMLElement("ip", [("address", n.cidr.firstHost.description), ("netmask", n.cidr.netmask.description)])
        var dhcp = XMLElement("dhcp")
        for m in machines {
            for nic in m.nics where nic.network.name == n.name {
                dhcp.append(XMLElement("host", [("mac", nic.mac), ("name", m.name), ("ip", nic.address.description)]))
            }
        }
        if !dhcp.children.isEmpty { ip.append(dhcp) }
        x.append(ip)
        return x
    }
}

/// Renders storage pool and volume XML.
public enum StorageRenderer {
    public static func pool(name: String, path: String, uuid: String) -> XMLElement {
        XMLElement(
            "pool", [("type", "dir")],
            [
                .element(XMLElement("name", text: name)),
                .element(XMLElement("uuid", text: uuid)),
                .element(
                    XMLElement(
                        "target", [],
                        [
                            .element(XMLElement("path", text: path)),
                            .element(XMLElement("permissions", [], [.element(XMLElement("mode", text: "0711"))])),
                        ])),
            ])
    }

    /// A qcow2 overlay on a base image: the machine's own disk.
    public static func overlay(name: String, capacity: ByteSize, backing: VolumeRef, backingFormat: Image.Format)
        -> XMLElement
    {
        XMLElement(
            "volume", [("type", "file")],
            [
                .element(XMLElement("name", text: name)),
                .element(XMLElement("capacity", [("unit", "bytes")], text: "\(capacity.bytes)")),
                .element(
                    XMLElement(
                        "target", [],
                        [
                            .element(XMLElement("format", [("type", "qcow2")])),
                            .element(XMLElement("permissions", [], [.element(XMLElement("mode", text: "0600"))])),
                            // qcow2 v3: without it libvirt writes the old 0.10 format, which lacks lazy refcounts and zero clusters.
                            .element(XMLElement("compat", text: "1.1")),
                        ])),
                .element(
                    XMLElement(
                        "backingStore", [],
                        [
                            .element(XMLElement("path", text: backing.path)),
                            .element(XMLElement("format", [("type", backingFormat.rawValue)])),
                        ])),
            ])
    }

    /// A raw volume that receives uploaded bytes (base images, kernels, seeds).
    public static func raw(name: String, bytes: UInt64, mode: String = "0600") -> XMLElement {
        file(name: name, capacity: bytes, format: "raw", mode: mode)
    }

    /// A volume whose file is already in place, registered with the format and capacity libvirt
    /// would probe from it (drivers that do not scan a pool's folder: the test driver).
    public static func file(name: String, capacity: UInt64, format: String, mode: String) -> XMLElement {
        XMLElement(
            "volume", [("type", "file")],
            [
                .element(XMLElement("name", text: name)),
                .element(XMLElement("capacity", [("unit", "bytes")], text: "\(capacity)")),
                .element(XMLElement("allocation", [("unit", "bytes")], text: "0")),
                .element(
                    XMLElement(
                        "target", [],
                        [
                            .element(XMLElement("format", [("type", format)])),
                            .element(XMLElement("permissions", [], [.element(XMLElement("mode", text: mode))])),
                        ])),
            ])
    }
}
