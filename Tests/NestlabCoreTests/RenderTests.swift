import Foundation
import Testing

@testable import NestlabCore

/// Rendering: golden files of every document nestlab sends, each checked by the
/// real validator (libvirt's virt-xml-validate, cloud-init's schema).
@Suite struct RenderTests {
    static let sshKey =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOTZ5Ml4o2mX0ulZzbEVf0Z0iYqzGxyCLB0O7JI5Nqd nestlab@golden"

    /// A two-NUMA-node Intel KVM host with 16 CPUs.
    static let bigHost = HostFacts(
        cpuVendor: .intel, onlineCPUs: CPUSet(0..<16),
        numaNodes: [0: CPUSet(0..<8), 1: CPUSet(8..<16)], kvmUsable: true)
    /// A CI machine: 2 CPUs, no working KVM.
    static let ciHost = HostFacts(
        cpuVendor: .intel, onlineCPUs: CPUSet(0..<2), numaNodes: [0: CPUSet(0..<2)], kvmUsable: false)

    static func bases(for t: Topology) -> [String: [String: BaseVolumeRef]] {
        var out: [String: [String: BaseVolumeRef]] = [:]
        for h in t.hosts {
            for i in t.images {
                let sha: String
                if case .url(_, let s?, _) = i.source { sha = s } else { sha = Identity.hex("image:" + i.name) }
                let dir = Lab.imagePoolPath(host: h)
                let name = Lab.baseVolumeName(sha256: sha, format: i.format)
                var ref = BaseVolumeRef(
                    disk: VolumeRef(pool: Lab.imagePoolName, name: name, path: "\(dir)/\(name)", identity: sha),
                    format: i.format)
                if i.kernel != nil {
                    let k = Identity.hex("kernel:" + i.name)
                    let r = Identity.hex("initrd:" + i.name)
                    ref.kernel = VolumeRef(
                        pool: Lab.imagePoolName, name: "kernel-\(k.prefix(16))", path: "\(dir)/kernel-\(k.prefix(16))",
                        identity: k)
                    ref.initrd = VolumeRef(
                        pool: Lab.imagePoolName, name: "initrd-\(r.prefix(16))", path: "\(dir)/initrd-\(r.prefix(16))",
                        identity: r)
                }
                out[h.name, default: [:]][i.name] = ref
            }
        }
        return out
    }

    static func render(_ path: URL, facts: HostFacts) throws -> RenderedLab {
        let (t, _) = try TopologyParser(environment: ["HOME": "/home/researcher"]).load(path: path.path)
        var f: [String: HostFacts] = [:]
        for h in t.hosts { f[h.name] = facts }
        let lab = try LabResolver(topology: t, facts: f).resolve()
        return try LabRenderer.render(lab: lab, bases: bases(for: t), sshKeys: [sshKey])
    }

    static let cases: [(String, String)] = [("render/tuned.yaml", "big"), ("../../../topologies/ci.yaml", "ci")]

    @Test(arguments: cases)
    func goldenAndValid(_ fixture: String, _ hostKind: String) throws {
        let rendered = try Self.render(Fixtures.url(fixture), facts: hostKind == "big" ? Self.bigHost : Self.ciHost)
        let lab = rendered.lab.name
        let tmp = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        var toValidate: [(URL, String)] = []
        for (net, xml) in rendered.networks {
            guard let xml else { continue }
            try Fixtures.expectGolden(xml.render(), "render/\(lab)/network-\(net.network.name).xml")
            let u = tmp.appendingPathComponent("net-\(net.network.name).xml")
            try xml.render().write(to: u, atomically: true, encoding: .utf8)
            toValidate.append((u, "network"))
        }
        for m in rendered.machines {
            let dir = "render/\(lab)/\(m.machine.name)"
            try Fixtures.expectGolden(m.domain.render(), "\(dir)/domain.xml")
            try Fixtures.expectGolden(m.overlay.render(), "\(dir)/overlay.xml")
            try Fixtures.expectGolden(m.seed.userData, "\(dir)/user-data")
            try Fixtures.expectGolden(m.seed.metaData, "\(dir)/meta-data")
            try Fixtures.expectGolden(m.seed.networkConfig, "\(dir)/network-config")
            for (name, xml, schema) in [("domain", m.domain, "domain"), ("overlay", m.overlay, "storagevol")] {
                let u = tmp.appendingPathComponent("\(m.machine.name)-\(name).xml")
                try xml.render().write(to: u, atomically: true, encoding: .utf8)
                toValidate.append((u, schema))
            }
            let ud = tmp.appendingPathComponent("\(m.machine.name)-user-data")
            try m.seed.userData.write(to: ud, atomically: true, encoding: .utf8)
            let r = try Tool.run(["cloud-init", "schema", "--config-file", ud.path])
            #expect(r.status == 0, "cloud-init schema rejects user-data of \(m.machine.name): \(r.stdout)\(r.stderr)")
        }
        let pool = StorageRenderer.pool(
            name: Lab.poolName(lab: lab), path: "/var/lib/libvirt/images/nestlab/\(lab)",
            uuid: Identity.uuid("pool", lab))
        let pu = tmp.appendingPathComponent("pool.xml")
        try pool.render().write(to: pu, atomically: true, encoding: .utf8)
        toValidate.append((pu, "storagepool"))
        let raw = tmp.appendingPathComponent("raw.xml")
        try StorageRenderer.raw(name: "seed.iso", bytes: 374784).render().write(
            to: raw, atomically: true, encoding: .utf8)
        toValidate.append((raw, "storagevol"))
        for (u, schema) in toValidate {
            let r = try Tool.run(["virt-xml-validate", u.path, schema])
            #expect(r.status == 0, "virt-xml-validate rejects \(u.lastPathComponent): \(r.stderr)\(r.stdout)")
        }
    }

    @Test func tunedMachinesGetTheMitigations() throws {
        let r = try Self.render(Fixtures.url("render/tuned.yaml"), facts: Self.bigHost)
        let cp = try #require(r.machine(named: "cp")).machine
        let w0 = try #require(r.machine(named: "worker-0")).machine
        let w1 = try #require(r.machine(named: "worker-1")).machine
        // vCPUs 1:1 on free CPUs of one NUMA node; host CPUs 0-1 are reserved for emulator and I/O threads.
        #expect(cp.vcpuPins.map(\.description) == ["2", "3", "4", "5"])
        #expect(w0.vcpuPins.map(\.description) == ["8", "9", "10", "11"])
        #expect(w1.vcpuPins.map(\.description) == ["12", "13", "14", "15"])
        #expect(cp.emulatorPin?.description == "0-1" && cp.iothreadPin?.description == "0-1")
        #expect(cp.numaNode == 0 && w0.numaNode == 1)
        let xml = try #require(r.machine(named: "worker-0")).domain.render()
        for fragment in [
            "<domain type='kvm'>", "<vcpupin vcpu='3' cpuset='11'/>", "<emulatorpin cpuset='0-1'/>",
            "<iothreadpin iothread='1' cpuset='0-1'/>", "<page size='1048576' unit='KiB'/>",
            "<memory mode='strict' nodeset='1'/>", "<cpu mode='host-passthrough' check='none' migratable='off'>",
            "<feature policy='require' name='vmx'/>",
            "<driver name='qemu' type='qcow2' cache='none' io='native' iothread='1'/>",
            "<driver name='vhost' queues='4'/>", "<iothreads>1</iothreads>",
            "<nestlab:nestlab xmlns:nestlab='http://nestlab.dev/xmlns/lab/1' lab='tuned' machine='worker-0'>",
        ] {
            #expect(xml.contains(fragment), "missing \(fragment)")
        }
        // AMD hosts need svm, not vmx.
        var amd = Self.bigHost
        amd.cpuVendor = .amd
        let ra = try Self.render(Fixtures.url("render/tuned.yaml"), facts: amd)
        #expect(
            try #require(ra.machine(named: "cp")).domain.render().contains("<feature policy='require' name='svm'/>"))
    }

    @Test func tcgMachinesGetQemuTypeAndMaximumCPU() throws {
        let r = try Self.render(Fixtures.repo.appendingPathComponent("topologies/ci.yaml"), facts: Self.ciHost)
        #expect(r.machines.map(\.machine.name) == ["vm-0", "vm-1"])
        for m in r.machines {
            let xml = m.domain.render()
            #expect(xml.contains("<domain type='qemu'>") && xml.contains("<cpu mode='maximum' check='none'/>"))
            #expect(m.machine.vcpuPins.map(\.description) == ["0", "1"])
            #expect(xml.contains("<page size='2048' unit='KiB'/>"))
        }
        #expect(r.machines.map { $0.machine.nics[0].address.description } == ["10.77.0.10", "10.77.0.11"])
    }

    @Test func specDigestChangesWithTuningAndReportsWhat() throws {
        let a = try Self.render(Fixtures.url("render/tuned.yaml"), facts: Self.bigHost)
        var b = try TopologyParser(environment: [:]).load(path: Fixtures.url("render/tuned.yaml").path).0
        b.machines[0].vcpus = 6
        b.machines[0].memory = .gib(16)
        let labB = try LabResolver(topology: b, facts: ["node1": Self.bigHost]).resolve()
        let rb = try LabRenderer.render(lab: labB, bases: Self.bases(for: b), sshKeys: [Self.sshKey])
        let old = try #require(a.machine(named: "cp")).spec
        let new = try #require(rb.machine(named: "cp")).spec
        #expect(old.digest != new.digest)
        let diff = new.differences(from: old)
        #expect(diff.contains("vcpus 4 → 6"))
        #expect(diff.contains("memory 8GiB → 16GiB"))
        #expect(diff.contains("vcpupin 2 3 4 5 → 2 3 4 5 6 7"))
        // Unchanged machines keep their digest.
        #expect(try #require(a.machine(named: "worker-1")).spec.digest != "")
    }

    @Test func xmlEscapesEverything() throws {
        var e = XMLElement("a", [("x", "it's <\"&\">\n")], text: "1 < 2 & 3 > 2")
        e.append(XMLElement("b"))
        let s = e.render()
        #expect(s == "<a x='it&apos;s &lt;&quot;&amp;&quot;&gt;&#10;'>\n  1 &lt; 2 &amp; 3 &gt; 2\n  <b/>\n</a>\n")
        let r = try Tool.run(["xmllint", "--noout", "-"], input: Data(s.utf8))
        #expect(r.status == 0, "xmllint: \(r.stderr)")
    }

    @Test func yamlQuotesAmbiguousStrings() throws {
        let doc = YAMLValue.map([
            ("a", .string("true")), ("b", .string("0644")), ("c", .string("1.30")), ("d", .string("")),
            ("e", .string("null")), ("f", .string("plain")), ("g", .block("x\ny\n")), ("h", .int(2)),
            ("i", .string("on")), ("j", .string("52:54:00:12:34:56")), ("k", .quoted("52:54:00:ab:cd:ef")),
        ])
        #expect(
            doc.emit()
                == "a: \"true\"\nb: \"0644\"\nc: \"1.30\"\nd: \"\"\ne: \"null\"\nf: plain\ng: |\n  x\n  y\nh: 2\ni: \"on\"\nj: \"52:54:00:12:34:56\"\nk: \"52:54:00:ab:cd:ef\"\n"
        )
    }
}

@Suite struct ResolutionTests {
    static func topology(_ yaml: String) throws -> Topology {
        try TopologyParser(environment: [:]).load(data: Data(yaml.utf8), file: "t.yaml").0
    }

    @Test func autoPinningAvoidsCPUsAProfilePins() throws {
        let t = try Self.topology(
            """
            name: pins
            hosts: [{name: h, cpus: 1-5, reservedCPUs: "0"}]
            images: {deb: {file: /x.qcow2}}
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            profiles:
              fixed: {cpu: {pinning: 1-2}}
              floating: {cpu: {pinning: auto}}
            machines:
              - {name: a, profile: fixed}
              - {name: b, profile: floating}
            """)
        let lab = try LabResolver(topology: t, facts: ["h": RenderTests.bigHost]).resolve()
        #expect(lab.machine(named: "a")?.vcpuPins.map(\.description) == ["1", "2"])
        #expect(lab.machine(named: "b")?.vcpuPins.map(\.description) == ["3", "4"])
    }

    @Test func nestedWithAutoAccelRefusesTCGFallback() throws {
        let t = try Self.topology(
            """
            name: nested
            images: {deb: {file: /x.qcow2}}
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            machines: [{name: a, profile: paper-mitigated, memory: 4GiB}]
            """)
        #expect(throws: LabError.self) {
            try LabResolver(topology: t, facts: ["localhost": RenderTests.ciHost]).resolve()
        }
        do {
            _ = try LabResolver(topology: t, facts: ["localhost": RenderTests.ciHost]).resolve()
        } catch {
            #expect("\(error)".contains("KVM does not work on host 'localhost'"))
        }
    }

    @Test func isolatedNetworksGiveNoDefaultRoute() throws {
        let t = try Self.topology(
            """
            name: iso
            images: {deb: {file: /x.qcow2}}
            networks:
              back: {mode: isolated, cidr: 10.88.0.0/24}
            machines: [{name: a}]
            """)
        let lab = try LabResolver(topology: t, facts: ["localhost": RenderTests.ciHost]).resolve()
        let r = try LabRenderer.render(lab: lab, bases: RenderTests.bases(for: t), sshKeys: [])
        let nc = try #require(r.machines.first).seed.networkConfig
        #expect(!nc.contains("routes"))
        #expect(nc.contains("10.88.0.10/24"))
    }

    @Test func metadataForTheAPIHasNoPrefixes() {
        let e = XMLElement(
            "nestlab:nestlab", [("xmlns:nestlab", "http://x"), ("lab", "l")],
            [.element(XMLElement("nestlab:ready", [("instance", "i")]))])
        #expect(e.unprefixed().render() == "<nestlab lab='l'>\n  <ready instance='i'/>\n</nestlab>\n")
    }
}
