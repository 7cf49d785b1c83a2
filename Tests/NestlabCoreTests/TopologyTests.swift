import Foundation
import Testing

@testable import NestlabCore

/// Good and bad topology fixtures, with the exact messages (and line numbers) users see.
@Suite struct TopologyFixtureTests {
    static let badFixtures: [String] =
        (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.url("topologies/bad").path))?
        .filter { $0.hasSuffix(".yaml") }.sorted() ?? []

    static let env = ["HOME": "/home/researcher"]

    /// Parses a fixture as `validate` does, with the file named by its base name.
    static func diagnostics(_ relative: String) throws -> (Topology?, [String]) {
        let data = try Data(contentsOf: Fixtures.url(relative))
        let name = URL(fileURLWithPath: relative).lastPathComponent
        do {
            let (t, warnings) = try TopologyParser(environment: env).load(data: data, file: name)
            return (t, warnings.map(\.description))
        } catch let e as TopologyError {
            return (nil, e.diagnostics.map(\.description))
        }
    }

    @Test func thereAreBadFixtures() {
        #expect(Self.badFixtures.count >= 12)
    }

    @Test(arguments: badFixtures)
    func badFixtureReportsExactly(_ name: String) throws {
        let (topology, messages) = try Self.diagnostics("topologies/bad/\(name)")
        #expect(topology == nil, "\(name) must not validate")
        let expected = try Fixtures.text("topologies/bad/\(name.replacingOccurrences(of: ".yaml", with: ".expected"))")
            .split(separator: "\n").map(String.init)
        #expect(messages == expected)
        #expect(messages.contains { $0.contains(": error: ") })
    }

    @Test func warningsDoNotFail() throws {
        let (topology, messages) = try Self.diagnostics("topologies/good/warnings.yaml")
        let t = try #require(topology)
        #expect(t.name == "warn")
        let expected = try Fixtures.text("topologies/good/warnings.expected").split(separator: "\n").map(String.init)
        #expect(messages == expected)
        #expect(messages.allSatisfy { $0.contains(": warning: ") })
    }

    @Test func everyShippedTopologyValidates() throws {
        let dir = Fixtures.repo.appendingPathComponent("topologies")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for f in files {
            let path = dir.appendingPathComponent(f).path
            do {
                _ = try TopologyParser(environment: Self.env).load(path: path)
            } catch {
                Issue.record("\(f) does not validate:\n\(error)")
            }
        }
    }

    @Test func defaultsAreFilled() throws {
        let yaml = """
            name: tiny
            images:
              deb: {file: images/debian.qcow2}
            networks:
              lab: {mode: nat, cidr: 10.77.0.0/24}
            machines:
              - name: a
              - name: w
                count: 3
                network: {lab: 10.77.0.50}
            """
        let (t, warnings) = try TopologyParser(environment: Self.env).load(
            data: Data(yaml.utf8), file: "/labs/tiny.yaml")
        #expect(warnings.isEmpty)
        #expect(t.hosts.map(\.name) == ["localhost"])
        #expect(t.hosts[0].libvirt == "qemu:///system")
        let a = try #require(t.machineGroup(named: "a"))
        #expect(a.vcpus == 2 && a.memory == .gib(2) && a.disk == .gib(20) && a.profile == "paper-default")
        #expect(a.image == "deb" && a.host == "localhost")
        #expect(t.image(named: "deb")?.source == .file(path: "/labs/images/debian.qcow2"))
        #expect(t.machineGroup(named: "w")?.instanceNames == ["w-0", "w-1", "w-2"])
        var alloc = AddressAllocator(topology: t)
        let r = alloc.allocate()
        #expect(r.issues.isEmpty)
        #expect(r.addresses["w-0"]?["lab"] == IPv4("10.77.0.50"))
        #expect(r.addresses["w-2"]?["lab"] == IPv4("10.77.0.52"))
        #expect(r.addresses["a"]?["lab"] == IPv4("10.77.0.10"))
    }

    @Test func pathsExpandEnvironmentAndHome() throws {
        let yaml = """
            name: paths
            images:
              a: {file: "${IMG_DIR}/a.qcow2"}
              b: {file: "${MISSING:-~/fallback}/b.qcow2", kernel: ~/vmlinuz}
              c: {file: "${NOT_SET}/c.qcow2"}
            networks:
              lab: {mode: nat, cidr: 10.77.0.0/24}
            machines:
              - {name: m, image: a}
            """
        var d = Diagnostics()
        let t = TopologyParser(environment: ["IMG_DIR": "/srv/img", "HOME": "/home/r"]).parse(
            data: Data(yaml.utf8), file: "p.yaml", &d)
        #expect(t?.image(named: "a")?.source == .file(path: "/srv/img/a.qcow2"))
        #expect(t?.image(named: "b")?.source == .file(path: "/home/r/fallback/b.qcow2"))
        #expect(t?.image(named: "b")?.kernel == "/home/r/vmlinuz")
        #expect(
            d.errors.map(\.description) == [
                "p.yaml:5:13: error: images.c.file: environment variable 'NOT_SET' is not set; set it, or give a default: ${NOT_SET:-DEFAULT}"
            ])
    }

    @Test func runtimesAcceptListAndMapping() throws {
        let yaml = """
            name: rt
            images: {deb: {file: /x.qcow2}}
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            machines: [{name: cp, profile: paper-mitigated, memory: 4GiB}]
            clusters:
              - name: k
                controlPlane: [cp]
                containerd: 2.1.4
                runtimes:
                  kata: {version: 3.20.0, hypervisors: [qemu, fc], defaultVCPUs: 2, defaultMemory: 1GiB, enableHugepages: true, sharedFS: virtio-9p}
                  kubevirt: {emulation: on}
                  urunc: {monitors: [firecracker]}
            """
        let (t, _) = try TopologyParser(environment: Self.env).load(data: Data(yaml.utf8), file: "rt.yaml")
        let c = try #require(t.clusters.first)
        #expect(c.runtimes.map(\.name) == ["runc", "kata", "kubevirt", "urunc"])
        guard case .kata(let k) = c.runtimes[1] else {
            Issue.record("kata expected")
            return
        }
        #expect(
            k.hypervisors == [.qemu, .fc] && k.defaultVCPUs == 2 && k.defaultMemory == .gib(1) && k.enableHugepages
                && k.sharedFS == .virtio9p)
        guard case .kubevirt(let kv) = c.runtimes[2], case .urunc(let u) = c.runtimes[3] else {
            Issue.record("kinds")
            return
        }
        #expect(kv.emulation == .on && !c.runtimes[2].needsKVM)
        #expect(u.monitors == [.firecracker] && c.runtimes[3].needsKVM)
        #expect(Versions.resolveKubernetes(c.kubernetes) == .resolved("1.33.4"))
    }
}

@Suite struct UnitsTests {
    @Test(arguments: [
        ("8GiB", UInt64(8) << 30), ("512MiB", 512 << 20), ("4Gi", 4 << 30), ("1024B", 1024), ("1TiB", 1 << 40),
    ])
    func sizes(_ text: String, _ bytes: UInt64) throws {
        #expect(try ByteSize.parse(text).get().bytes == bytes)
    }

    @Test func badSizes() {
        #expect(ByteSize.parse("8G") == .failure(.decimalUnit("8G", suggestion: "8GiB")))
        #expect(ByteSize.parse("8GB") == .failure(.decimalUnit("8GB", suggestion: "8GiB")))
        #expect(ByteSize.parse("40") == .failure(.noUnit("40")))
        #expect(ByteSize.parse("lots") == .failure(.notANumber("lots")))
        #expect(ByteSize.parse("3XB") == .failure(.unknownUnit("3XB")))
        #expect(ByteSize.parse("99999999999TiB") == .failure(.overflow("99999999999TiB")))
        #expect(ByteSize(bytes: 1536 << 20).description == "1536MiB")
        #expect(ByteSize.gib(8).description == "8GiB")
    }

    @Test func cpuSets() throws {
        #expect(try CPUSet.parse("2-5,8").get().cpus == [2, 3, 4, 5, 8])
        #expect(try CPUSet.parse(" 8, 2-3 ,3").get().description == "2-3,8")
        #expect(try CPUSet.parse("0").get().cpus == [0])
        #expect(CPUSet.parse("5-2") == .failure(.reversedRange("5-2")))
        #expect(CPUSet.parse("a") == .failure(.badElement("a")))
        #expect(CPUSet.parse("1-2-3") == .failure(.badElement("1-2-3")))
        #expect(CPUSet.parse("") == .failure(.empty))
        #expect(CPUSet([0, 1, 2, 3, 5, 7, 8]).description == "0-3,5,7-8")
    }

    @Test func networks() throws {
        let n = try IPv4Network.parse("10.77.0.0/24").get()
        #expect(n.firstHost.description == "10.77.0.1" && n.broadcast.description == "10.77.0.255")
        #expect(n.netmask.description == "255.255.255.0")
        #expect(n.contains(IPv4("10.77.0.200")!) && !n.contains(IPv4("10.77.1.1")!))
        #expect(n.overlaps(try IPv4Network.parse("10.0.0.0/8").get()))
        #expect(!n.overlaps(try IPv4Network.parse("10.78.0.0/16").get()))
        #expect(IPv4Network.parse("10.77.0.1/24") == .failure(.hostBitsSet("10.77.0.1/24", network: "10.77.0.0/24")))
        #expect(IPv4Network.parse("10.77.0.0/31") == .failure(.tooSmall("10.77.0.0/31")))
        #expect(IPv4("256.1.1.1") == nil && IPv4("1.2.3") == nil && IPv4("01.2.3.4") != nil)
    }

    @Test func spelling() {
        #expect(Spelling.closest(to: "libvrt", in: ["libvirt", "ssh"]) == "libvirt")
        #expect(Spelling.closest(to: "zzzzzz", in: ["libvirt", "ssh"]) == nil)
    }

    @Test func kubernetesVersions() {
        #expect(Versions.resolveKubernetes("1.33") == .resolved("1.33.4"))
        #expect(Versions.resolveKubernetes("v1.32.1") == .resolved("1.32.1"))
        #expect(Versions.resolveKubernetes("1.30") == .tooOld("1.30"))
        #expect(Versions.resolveKubernetes("1.99") == .unknownMinor("1.99"))
        #expect(Versions.resolveKubernetes("1.x") == .malformed("1.x"))
    }
}
