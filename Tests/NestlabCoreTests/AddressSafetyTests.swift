import Foundation
import Testing

@testable import NestlabCore

/// Issue 21, class 7: lab networks do not overlap, no address is given twice anywhere in the
/// lab, and pod and service networks stay clear of each other and of the lab. Each refusal is
/// at the line of the second use and names the line of the first.
@Suite struct AddressSafetyTests {
    static func lab(networks: String, hosts: String = "", machines: String = "machines: []", clusters: String = "")
        -> String
    {
        """
        name: addr
        hosts:
          - {name: local}
        \(hosts)
        images: {deb: {file: /x.qcow2}}
        networks:
        \(networks)
        \(machines)
        \(clusters)
        """
    }

    /// (networks, line of the error, line it names)
    @Test(arguments: [
        ("  a: {mode: isolated, cidr: 10.77.0.0/16}\n  b: {mode: isolated, cidr: 10.77.5.0/24}", 8, 7),
        ("  a: {mode: isolated, cidr: 10.77.5.0/24}\n  b: {mode: isolated, cidr: 10.77.0.0/16}", 7, 8),
        ("  a: {mode: nat, cidr: 10.77.0.0/24}\n  b: {mode: nat, cidr: 10.77.0.0/24}", 8, 7),
        (
            "  a: {mode: isolated, cidr: 10.0.0.0/8}\n  c: {mode: isolated, cidr: 10.200.0.0/16}\n  b: {mode: isolated, cidr: 10.77.0.0/24}",
            8, 7
        ),
    ])
    func overlappingNetworksAreRefused(_ networks: String, _ line: Int, _ other: Int) {
        let e = HostileInputTests.errors(Self.lab(networks: networks))
        let overlaps = e.filter { $0.contains("overlaps network") }
        #expect(!overlaps.isEmpty && overlaps.allSatisfy { $0.contains("at line") }, "\(e)")
        #expect(
            overlaps.first.map { $0.hasPrefix("h.yaml:\(line):") && $0.contains("at line \(other)") } == true, "\(e)")
    }

    @Test func neighbouringNetworksAreFine() {
        let e = HostileInputTests.errors(
            Self.lab(networks: "  a: {mode: isolated, cidr: 10.77.0.0/24}\n  b: {mode: isolated, cidr: 10.77.1.0/24}"))
        #expect(e == [])
    }

    /// Two things with one address: (hosts, networks, machines, line of the error, line it names).
    @Test(arguments: [
        // A VM at a bare-metal host's address.
        (
            "  - {name: metal, ssh: root@metal, address: 10.77.0.20}", "  lab: {mode: nat, cidr: 10.77.0.0/24}",
            "machines: [{name: vm, host: local, network: {lab: 10.77.0.20}}]", 8, 4
        ),
        // Two bare-metal hosts.
        (
            "  - {name: m1, ssh: root@m1, address: 192.168.9.5}\n  - {name: m2, ssh: root@m2, address: 192.168.9.5}",
            "  lab: {mode: nat, cidr: 10.77.0.0/24}", "machines: []", 5, 4
        ),
        // A bare-metal host at a network's gateway.
        (
            "  - {name: metal, ssh: root@metal, address: 192.168.50.1}",
            "  seg: {mode: bridge, bridge: br0, cidr: 192.168.50.0/24, gateway: 192.168.50.1}", "machines: []", 4, 7
        ),
        // A bare-metal host at libvirt's own address on a NAT network.
        (
            "  - {name: metal, ssh: root@metal, address: 10.77.0.1}", "  lab: {mode: nat, cidr: 10.77.0.0/24}",
            "machines: []", 4, 7
        ),
        // Two networks' gateways.
        (
            "",
            "  a: {mode: bridge, bridge: br0, cidr: 192.168.50.0/24, gateway: 192.168.50.1}\n  b: {mode: bridge, bridge: br1, cidr: 192.168.50.0/25, gateway: 192.168.50.1}",
            "machines: []", 8, 7
        ),
    ])
    func anAddressIsGivenOnce(_ hosts: String, _ networks: String, _ machines: String, _ line: Int, _ other: Int) {
        let e = HostileInputTests.errors(Self.lab(networks: networks, hosts: hosts, machines: machines))
        let twice = e.filter { $0.contains("also") }
        #expect(twice.contains { $0.hasPrefix("h.yaml:\(line):") && $0.contains("at line \(other)") }, "\(e)")
    }

    @Test func automaticAddressesGoAroundBareMetalHosts() throws {
        let yaml = Self.lab(
            networks: "  lab: {mode: nat, cidr: 10.77.0.0/24}",
            hosts: "  - {name: metal, ssh: root@metal, address: 10.77.0.10}",
            machines: "machines: [{name: vm, host: local}]")
        let (t, _) = try TopologyParser(environment: [:]).load(data: Data(yaml.utf8), file: "h.yaml")
        var allocator = AddressAllocator(topology: t)
        #expect(allocator.allocate().addresses["vm"]?["lab"] == IPv4("10.77.0.11"))
    }

    /// (cluster keys, line of the error, line it names)
    @Test(arguments: [
        ("    podCIDR: 10.77.0.0/16", 12, 7),
        ("    serviceCIDR: 10.77.0.0/24", 12, 7),
        ("    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.244.128.0/20", 13, 12),
        ("    podCIDR: 10.96.0.0/16", 12, 0),
        ("    serviceCIDR: 10.244.0.0/24", 12, 0),
    ])
    func podAndServiceNetworksStayApart(_ keys: String, _ line: Int, _ other: Int) {
        let e = HostileInputTests.errors(
            Self.lab(
                networks: "  lab: {mode: nat, cidr: 10.77.0.0/24}", machines: "machines: [{name: cp}]",
                clusters: "clusters:\n  - name: k\n    controlPlane: [cp]\n\(keys)"))
        #expect(e.count == 1 && e[0].hasPrefix("h.yaml:\(line):"), "\(e)")
        #expect(
            e.first.map { other == 0 ? $0.contains("the default") : $0.contains("at line \(other)") } == true, "\(e)")
    }

    @Test func aBareMetalHostInsideThePodNetworkIsRefused() {
        let e = HostileInputTests.errors(
            Self.lab(
                networks: "  lab: {mode: nat, cidr: 10.77.0.0/24}",
                hosts: "  - {name: metal, ssh: root@metal, address: 10.244.1.1}",
                machines: "machines: [{name: cp, host: local}]",
                clusters:
                    "clusters:\n  - name: k\n    controlPlane: [cp]\n    workers: [host:metal]\n    podCIDR: 10.244.0.0/16"
            ))
        #expect(
            e.count == 1 && e[0].hasPrefix("h.yaml:4:") && e[0].contains("inside the pod network 10.244.0.0/16")
                && e[0].contains("at line 13"), "\(e)")
    }
}
