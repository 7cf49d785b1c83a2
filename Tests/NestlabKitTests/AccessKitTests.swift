import Foundation
import Testing

@testable import NestlabCore
@testable import NestlabKit

/// Issue 18 on the test driver: what `up` records for reaching the lab, how the machines are
/// reached on several hosts, and the exit-2 errors of the access commands.
@Suite struct AccessKitTests {
    @Test func upRecordsExactHostKeysAndTheyStayTheSame() async throws {
        let kit = try KitLab(name: "acc")
        try await kit.up()
        let state = kit.store.lab("acc")
        let fm = FileManager.default
        func mode(_ u: URL) throws -> Int? { try fm.attributesOfItem(atPath: u.path)[.posixPermissions] as? Int }
        #expect(try mode(state.knownHosts.deletingLastPathComponent()) == 0o700)
        for f in [state.knownHosts, state.sshConfig, state.access, state.hostKey("vm-0"), state.hostKey("vm-1")] {
            #expect(try mode(f) == 0o600, "\(f.path)")
        }
        // known_hosts: each VM's key (the public half of the file nestlab keeps) under its name,
        // LAB-NAME and address; nothing else.
        let known = try String(contentsOf: state.knownHosts, encoding: .utf8)
        var expected = ""
        for (m, ip) in [("vm-0", "10.77.0.10"), ("vm-1", "10.77.0.11")] {
            let key = try SSHKey(openSSHPrivateKey: try String(contentsOf: state.hostKey(m), encoding: .utf8))
            #expect(key.comment == "root@\(m)")
            expected +=
                "\(m),acc-\(m),\(ip) " + key.authorizedKey.split(separator: " ").prefix(2).joined(separator: " ") + "\n"
        }
        #expect(known == expected)
        // The seed carries the key that known_hosts holds; the private key is nowhere in libvirt.
        let s = try kit.open()
        for m in ["vm-0", "vm-1"] {
            let rm = try #require(s.rendered.machine(named: m))
            #expect(
                rm.seed.userData.contains(
                    try String(contentsOf: state.hostKey(m), encoding: .utf8).split(separator: "\n")[1]))
            let xml = try kit.domain(m).xmlDesc()
            #expect(!xml.contains("OPENSSH PRIVATE KEY") && !xml.contains("ssh_keys"))
        }
        // A second up renders the same seeds: the stored key text is used as it is (a fresh
        // check integer each run would change the seed and recreate every VM).
        let plan = try kit.plan()
        #expect(plan.isNoop, "\(plan.machines.map(\.action))")
        #expect(try String(contentsOf: state.knownHosts, encoding: .utf8) == known)

        // What the commands read back.
        let access = try AccessCommands.load(lab: "acc", store: kit.store)
        #expect(access.machines.map(\.name) == ["vm-0", "vm-1"])
        let vm0 = try #require(access.machine(named: "vm-0"))
        #expect(vm0.address == "10.77.0.10" && vm0.user == "nestlab" && vm0.identityFile == state.sshKey.path)
        #expect(vm0.proxyJump == nil && vm0.roles == ["vm"] && vm0.networks == ["lab"] && vm0.domain == "acc-vm-0")
        #expect(try String(contentsOf: state.sshConfig, encoding: .utf8) == (try access.sshConfig()))
        let argv = try AccessCommands.sshArguments(access, vm0, command: ["hostname"], batch: true)
        #expect(
            argv == [
                "ssh", "-F", state.sshConfig.path, "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "vm-0", "--",
                "hostname",
            ])

        // down (the command) removes them; the keys stay, so the lab keeps its identity.
        LabAccess.removeFiles(state)
        #expect(!fm.fileExists(atPath: state.knownHosts.path) && !fm.fileExists(atPath: state.access.path))
        #expect(fm.fileExists(atPath: state.hostKey("vm-0").path))
        #expect(throws: UsageError.self) { try AccessCommands.load(lab: "acc", store: kit.store) }
    }

    @Test func badLabMachineOrRoleNamesWhatIsValid() async throws {
        let kit = try KitLab(name: "accb")
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "no error"
            } catch let e as UsageError { return e.description } catch { return "other: \(error)" }
        }
        #expect(
            message { try AccessCommands.load(lab: "nosuch", store: kit.store) }
                == "there is no lab 'nosuch'; no lab is up (nestlab up TOPOLOGY brings one up)")
        #expect(
            message { try AccessCommands.load(lab: "../etc", store: kit.store) }.hasPrefix("'../etc' is not a lab name")
        )
        #expect(
            message { try AccessCommands.load(lab: String(repeating: "x", count: 100_000), store: kit.store) }.count
                < 300)
        _ = try kit.open()  // state, but never up
        #expect(
            message { try AccessCommands.load(lab: "accb", store: kit.store) }.hasPrefix(
                "lab 'accb' is not up (run `nestlab up"))
        try await kit.up()
        #expect(
            message { try AccessCommands.load(lab: "nosuch", store: kit.store) }
                == "there is no lab 'nosuch'; labs that are up: accb")
        let access = try AccessCommands.load(lab: "accb", store: kit.store)
        #expect(
            message { try AccessCommands.machine("vm-7", in: access) }
                == "lab 'accb' has no machine 'vm-7'; its machines: vm-0, vm-1")
        #expect(
            message { try AccessCommands.select(access, machines: nil, role: "worker") }
                == "lab 'accb' has no machine with role 'worker'; its roles: vm")
        #expect(
            message { try AccessCommands.select(access, machines: ["vm-1", "vm-9"], role: nil) }.contains(
                "no machine 'vm-9'"))
        #expect(
            message { try AccessCommands.select(access, machines: ["vm-1"], role: "vm") }
                == "give --machines or --role, not both")
        #expect(try AccessCommands.select(access, machines: ["vm-1", "vm-1"], role: nil).map(\.name) == ["vm-1"])
        #expect(try AccessCommands.select(access, machines: nil, role: "vm").map(\.name) == ["vm-0", "vm-1"])
    }

    /// Several hosts: a VM on a NAT network of a remote host goes through that host, as the
    /// libvirt URI (user, port, keyfile) or `hosts[].ssh` reaches it; bridged ones do not.
    @Test func remoteNATMachinesGoThroughTheirHost() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-acc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("multi.yaml")
        try """
        name: multi
        hosts:
          - name: here
            libvirt: qemu:///system
            cpus: 0-7
          - name: hostb
            libvirt: qemu+ssh://admin@hostb.example:2222/system?keyfile=/keys/b&no_verify=1
            cpus: 0-7
          - name: hostc
            libvirt: qemu+ssh://root@hostc/system
            ssh: ops@jump-c.example
            cpus: 0-7
        images:
          deb: {file: /srv/deb.qcow2}
        networks:
          inner: {mode: nat, cidr: 10.80.0.0/24}
          wide: {mode: bridge, bridge: br0, cidr: 192.168.60.0/24, gateway: 192.168.60.1}
        machines:
          - {name: a, host: here, image: deb, vcpus: 1, memory: 512MiB, disk: 4GiB, network: {inner: 10.80.0.10}}
          - {name: b, host: hostb, image: deb, vcpus: 1, memory: 512MiB, disk: 4GiB, network: {inner: 10.80.0.11}}
          - {name: c, host: hostc, image: deb, vcpus: 1, memory: 512MiB, disk: 4GiB, network: {inner: 10.80.0.12}}
          - {name: d, host: hostb, image: deb, vcpus: 1, memory: 512MiB, disk: 4GiB, network: {wide: 192.168.60.13}}
        """.write(to: file, atomically: true, encoding: .utf8)
        let (t, _) = try TopologyParser(environment: [:]).load(path: file.path)
        var facts: [String: HostFacts] = [:]
        for h in t.hosts { facts[h.name] = HostFacts.assumed(for: h, in: t) }
        let lab = try LabResolver(topology: t, facts: facts).resolve()
        let state = StateStore(root: dir.appendingPathComponent("state")).lab("multi")
        let access = LabAccess(lab: lab, state: state)
        let jumps = Dictionary(uniqueKeysWithValues: access.machines.map { ($0.name, $0.proxyJump) })
        #expect(jumps["a"] == .some(nil), "a local NAT network is reached directly")
        #expect(
            jumps["b"]
                == JumpHost(
                    alias: "nestlab-multi-hostb", hostName: "hostb.example", port: 2222, user: "admin",
                    identityFile: "/keys/b"))
        #expect(jumps["c"] == JumpHost(alias: "nestlab-multi-hostc", hostName: "jump-c.example", user: "ops"))
        #expect(jumps["d"] == .some(nil), "a bridge is reached directly")
        #expect(access.externalHosts.map(\.hostName) == ["hostb.example", "jump-c.example"])
        let config = try access.sshConfig()
        #expect(
            config.contains(
                "Host nestlab-multi-hostb\n  HostName hostb.example\n  Port 2222\n  User admin\n  IdentityFile /keys/b\n"
            ))
        #expect(config.contains("Host b multi-b\n  HostName 10.80.0.11\n"))
    }
}
