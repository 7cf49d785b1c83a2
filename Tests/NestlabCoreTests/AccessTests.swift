import Crypto
import Foundation
import Testing
import Yams

@testable import NestlabCore

/// Issue 18: the SSH config, known_hosts and Ansible inventory nestlab writes, and the
/// cloud-init section that gives each guest its host key. Golden bytes, each checked by the
/// real tool that reads it: `ssh -G`, `ssh-keygen`, `cloud-init schema`, `ansible-inventory`.
@Suite struct AccessTests {
    /// A fixed host key (a known seed and check integer), so its files are golden.
    static let hostKey: (SSHKey, SSHHostKeyMaterial) = {
        let seed = Data((0..<32).map { UInt8($0 * 7 + 1) })
        let key = SSHKey(privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: seed), comment: "root@vm-0")
        return (
            key,
            SSHHostKeyMaterial(privateKey: key.openSSHPrivateKey(checkInt: 0x0102_0304), publicKey: key.authorizedKey)
        )
    }()

    static let state = "/home/researcher/.local/state/nestlab/paper lab%1"

    /// A VM on a local NAT network, one on a remote host's NAT network (reached through the
    /// host), one on a bridge of that host, and a bare-metal node.
    static let machines: [MachineAccess] = {
        let kh = "\(state)/ssh/known_hosts"
        let key = "\(state)/ssh/id_ed25519"
        let jump = JumpHost(
            alias: "nestlab-paper-hostb", hostName: "hostb.example", port: 2222, user: "root",
            identityFile: "/keys/host b/id_ed25519")
        return [
            MachineAccess(
                name: "cp", kind: .vm, host: "local", aliases: ["paper-cp"], address: "10.77.0.10", user: "nestlab",
                identityFile: key, knownHostsFile: kh, roles: ["cp", "control-plane"], networks: ["lab"], cluster: "k"),
            MachineAccess(
                name: "worker-0", kind: .vm, host: "hostb", aliases: ["paper-worker-0"], address: "10.78.0.20",
                user: "nestlab",
                identityFile: key, knownHostsFile: kh, proxyJump: jump, roles: ["worker", "worker"],
                networks: ["inner"], cluster: "k"),
            MachineAccess(
                name: "worker-1", kind: .vm, host: "hostb", aliases: ["paper-worker-1"], address: "192.168.50.21",
                user: "nestlab",
                identityFile: key, knownHostsFile: kh, roles: ["worker"], networks: ["lab", "inner"], cluster: "k"),
            MachineAccess(
                name: "metal", kind: .baremetal, host: "metal", aliases: ["paper-metal"], address: "metal.example",
                user: "admin",
                identityFile: nil, knownHostsFile: kh, roles: ["baremetal", "worker"], networks: [], cluster: "k"),
        ]
    }()

    @Test func sshConfigIsGoldenAndWhatSSHReads() throws {
        let text = try SSHConfig.render(lab: "paper", machines: Self.machines)
        try Fixtures.expectGolden(text, "access/ssh-config")
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config")
        try text.write(to: file, atomically: true, encoding: .utf8)
        // What OpenSSH makes of it (ssh -G prints the effective options, tokens expanded).
        func effective(_ host: String) throws -> [String: [String]] {
            let r = try Tool.run(["ssh", "-G", "-F", file.path, host])
            #expect(r.status == 0, "ssh -G \(host): \(r.stderr)")
            var out: [String: [String]] = [:]
            for line in r.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                if parts.count == 2 { out[parts[0], default: []].append(parts[1]) }
            }
            return out
        }
        let cp = try effective("cp")
        #expect(cp["hostname"] == ["10.77.0.10"] && cp["user"] == ["nestlab"] && cp["port"] == ["22"])
        // ssh -G prints IdentityFile before it expands tokens (%% is a literal %; a real login
        // through such a path is BareMetalTests' sshConfigPathsWithBlanksAndPercentWork).
        #expect(
            cp["identityfile"] == ["\(Self.state.replacingOccurrences(of: "%", with: "%%"))/ssh/id_ed25519"],
            "\(cp["identityfile"] ?? [])")
        #expect(cp["userknownhostsfile"] == ["\(Self.state)/ssh/known_hosts"])
        #expect(cp["globalknownhostsfile"] == ["/dev/null"] && cp["stricthostkeychecking"] == ["true"])
        #expect(cp["proxyjump"] == nil)
        #expect(try effective("paper-cp")["hostname"] == ["10.77.0.10"])
        let w0 = try effective("worker-0")
        #expect(w0["proxyjump"] == ["nestlab-paper-hostb"])
        let jump = try effective("nestlab-paper-hostb")
        #expect(jump["hostname"] == ["hostb.example"] && jump["port"] == ["2222"] && jump["user"] == ["root"])
        #expect(jump["identityfile"] == ["/keys/host b/id_ed25519"] && jump["stricthostkeychecking"] == ["true"])
        #expect(jump["userknownhostsfile"] == ["\(Self.state)/ssh/known_hosts"])
        let metal = try effective("metal")
        #expect(
            metal["user"] == ["admin"] && metal["hostname"] == ["metal.example"]
                && metal["stricthostkeychecking"] == ["true"])
    }

    @Test func valuesSSHConfigCannotHoldAreRefused() {
        for bad in ["a\"b", "line\nbreak", ""] {
            var m = Self.machines[0]
            m.identityFile = bad
            #expect(throws: AccessError.self) { try SSHConfig.render(lab: "paper", machines: [m]) }
        }
        var m = Self.machines[0]
        m.knownHostsFile = "/tmp/x\ny"
        #expect(throws: AccessError.unquotable(what: "known_hosts path", value: "/tmp/x\ny")) {
            try SSHConfig.render(lab: "paper", machines: [m])
        }
    }

    @Test func knownHostsLinesAreWhatSSHKeygenFinds() throws {
        let (key, material) = Self.hostKey
        let text = KnownHosts.render([
            KnownHosts.Entry(names: ["vm-0", "lab-vm-0", "10.77.0.10"], key: material.keyWithoutComment),
            KnownHosts.Entry(names: ["hostb.example"], port: 2222, key: material.keyWithoutComment),
        ])
        try Fixtures.expectGolden(text, "access/known_hosts")
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("known_hosts")
        try text.write(to: file, atomically: true, encoding: .utf8)
        for name in ["vm-0", "10.77.0.10", "[hostb.example]:2222"] {
            let r = try Tool.run(["ssh-keygen", "-F", name, "-f", file.path])
            #expect(
                r.status == 0 && r.stdout.contains(key.authorizedKey.split(separator: " ")[1]),
                "ssh-keygen -F \(name): \(r.all)")
        }
        #expect(try Tool.run(["ssh-keygen", "-F", "hostb.example", "-f", file.path]).status != 0, "port 2222 only")
    }

    @Test func theGuestGetsItsHostKeyThroughCloudInit() throws {
        let (_, material) = Self.hostKey
        let (t, _) = try TopologyParser(environment: ["HOME": "/home/researcher"]).load(
            path: Fixtures.repo.appendingPathComponent("topologies/ci.yaml").path)
        let lab = try LabResolver(topology: t, facts: ["local": RenderTests.ciHost]).resolve()
        let rendered = try LabRenderer.render(
            lab: lab, bases: RenderTests.bases(for: t), sshKeys: [RenderTests.sshKey],
            hostKeys: ["vm-0": material])
        let vm0 = try #require(rendered.machine(named: "vm-0"))
        #expect(vm0.hasSecrets)
        try Fixtures.expectGolden(vm0.seed.userData, "render/ci-hostkey/vm-0/user-data")
        // vm-1 has no key given: cloud-init makes its own, as before.
        #expect(try #require(rendered.machine(named: "vm-1")).seed.userData.contains("ssh_keys") == false)

        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ud = dir.appendingPathComponent("user-data")
        try vm0.seed.userData.write(to: ud, atomically: true, encoding: .utf8)
        let schema = try Tool.run(["cloud-init", "schema", "--config-file", ud.path])
        #expect(schema.status == 0, "cloud-init schema: \(schema.all)")
        // The key as cloud-init will write it: the private key file OpenSSH reads, whose public
        // half (ssh-keygen -y, the real tool) is the line known_hosts holds.
        let doc = try #require(try Yams.load(yaml: vm0.seed.userData) as? [String: Any])
        #expect(doc["ssh_deletekeys"] as? Bool == true)
        let keys = try #require(doc["ssh_keys"] as? [String: String])
        #expect(keys["ed25519_private"] == material.privateKey && keys["ed25519_public"] == material.publicKey)
        let priv = dir.appendingPathComponent("ssh_host_ed25519_key")
        try material.privateKey.write(to: priv, atomically: true, encoding: .utf8)
        _ = try Tool.run(["chmod", "600", priv.path])
        let derived = try Tool.run(["ssh-keygen", "-y", "-f", priv.path])
        #expect(
            derived.status == 0 && derived.stdout.hasPrefix(material.keyWithoutComment), "ssh-keygen -y: \(derived.all)"
        )
    }

    @Test func inventoryIsGoldenInBothForms() throws {
        let config = "\(Self.state)/ssh/config"
        let yaml = AnsibleInventory.yaml(Self.machines, configFile: config)
        try Fixtures.expectGolden(yaml, "access/inventory.yaml")
        let list = AnsibleInventory.list(Self.machines, configFile: config)
        let json = String(
            decoding: try JSONSerialization.data(
                withJSONObject: list, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            as: UTF8.self)
        try Fixtures.expectGolden(json + "\n", "access/inventory.json")
        // Groups: by role (deduplicated), host, network, cluster; every host in one of them.
        let groups = Dictionary(uniqueKeysWithValues: AnsibleInventory.groups(Self.machines))
        #expect(groups["role_worker"] == ["worker-0", "worker-1", "metal"])
        #expect(
            groups["host_hostb"] == ["worker-0", "worker-1"] && groups["network_inner"] == ["worker-0", "worker-1"])
        #expect(groups["role_control_plane"] == ["cp"] && groups["cluster_k"]?.count == 4)
        // The jump goes through a ProxyCommand that runs ssh with the lab's config, so the
        // jump host is checked as strictly (ProxyJump on the command line would not be).
        let w0 = Dictionary(uniqueKeysWithValues: AnsibleInventory.hostVars(Self.machines[1], configFile: config))
        #expect(
            w0["ansible_ssh_common_args"]?.contains(
                "'ProxyCommand=ssh -F '\\''\(Self.state.replacingOccurrences(of: "%", with: "%%"))/ssh/config'\\'' -W [%h]:%p nestlab-paper-hostb'"
            ) == true,
            "\(w0["ansible_ssh_common_args"] ?? "")")

        // Ansible's own reading of both forms, when it is installed (setup-host installs it).
        guard Tool.exists("ansible-inventory") else { return }
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("inventory.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let env = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": dir.path,
            "ANSIBLE_LOCAL_TEMP": dir.path,
        ]
        let r = try Tool.run(["ansible-inventory", "-i", file.path, "--list"], environment: env)
        #expect(r.status == 0, "ansible-inventory: \(r.all)")
        let read = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let hostvars = try #require((read["_meta"] as? [String: Any])?["hostvars"] as? [String: [String: Any]])
        #expect(Set(hostvars.keys) == ["cp", "worker-0", "worker-1", "metal"])
        #expect(
            hostvars["cp"]?["ansible_host"] as? String == "10.77.0.10"
                && hostvars["cp"]?["ansible_user"] as? String == "nestlab")
        #expect(hostvars["metal"]?["ansible_ssh_private_key_file"] == nil)
        #expect(
            ((read["role_worker"] as? [String: Any])?["hosts"] as? [String]).map(Set.init) == [
                "worker-0", "worker-1", "metal",
            ])
        // The JSON form, as a dynamic inventory script prints it.
        let script = dir.appendingPathComponent("inventory.sh")
        let jsonFile = dir.appendingPathComponent("list.json")
        try json.write(to: jsonFile, atomically: true, encoding: .utf8)
        try "#!/bin/sh\n[ \"$1\" = --list ] && exec cat '\(jsonFile.path)'\necho '{}'\n".write(
            to: script, atomically: true, encoding: .utf8)
        _ = try Tool.run(["chmod", "755", script.path])
        let d = try Tool.run(["ansible-inventory", "-i", script.path, "--list"], environment: env)
        let dread = try #require(
            try JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any], "\(d.all)")
        #expect(
            Set(((dread["_meta"] as? [String: Any])?["hostvars"] as? [String: Any])?.keys.map { $0 } ?? [])
                == Set(hostvars.keys))
    }
}
