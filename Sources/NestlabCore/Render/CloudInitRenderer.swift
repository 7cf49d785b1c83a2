import Foundation

/// Renders the cloud-init NoCloud seed for a machine.
///
/// YAML is built as Yams nodes (ordered mappings) and emitted by Yams, so
/// values are always escaped correctly.
public enum CloudInitRenderer {
    public struct Input: Sendable {
        public var machine: Machine
        public var lab: String
        public var sshAuthorizedKeys: [String]
        /// Extra files (node scripts, their env file, cluster material).
        public var files: [GuestFile]
        /// Commands run once, in order, at first boot (cloud-init `runcmd`).
        public var commands: [[String]]
        /// The guest's SSH host key, made by nestlab, so that the lab's known_hosts is exact
        /// from the first connection (no trust on first use). nil: the guest makes its own.
        public var hostKey: SSHHostKeyMaterial?

        public init(
            machine: Machine, lab: String, sshAuthorizedKeys: [String], files: [GuestFile] = [],
            commands: [[String]] = [],
            hostKey: SSHHostKeyMaterial? = nil
        ) {
            self.machine = machine
            self.lab = lab
            self.sshAuthorizedKeys = sshAuthorizedKeys
            self.files = files
            self.commands = commands
            self.hostKey = hostKey
        }
    }

    /// The user every nestlab guest gets, with the lab's SSH key and passwordless sudo.
    public static let user = "nestlab"

    /// The one line a guest prints on its serial console once it is up:
    /// `NESTLAB ready instance=<id> status=<done|error> code=<0|1|2> cloudinit=<ran|skipped|missing> boot=<boot id>`.
    public static let readyMarker = "NESTLAB ready"

    /// Runs at every boot, once the guest is up, and prints the ready line on the serial
    /// console, which nestlab reads through libvirt (remote hosts too, without SSH).
    /// `NESTLAB_ROOT` prefixes every path, for tests only.
    static let reporterScript = """
        #!/bin/sh
        # Written by nestlab. Prints one line on the serial console at every boot, once the
        # guest is up; nestlab reads it through libvirt (remote hosts too, without SSH).
        #
        # A boot that ran cloud-init reports cloud-init's own result: cloud-final writes
        # result.json last, with the errors of every stage. When such a boot shuts down
        # cleanly ("stop", from the unit's ExecStop), cloud-init is switched off for later
        # boots of this disk (restarts, golden-snapshot rebuilds): its per-boot stages redo
        # nothing nestlab needs and cost a minute under TCG. Remove
        # /etc/cloud/cloud-init.disabled to have it run at every boot again.
        root=${NESTLAB_ROOT:-}
        result=$root/run/cloud-init/result.json
        disabled=$root/etc/cloud/cloud-init.disabled
        succeeded() { [ -f "$result" ] && tr -d ' \\t\\r\\n' <"$result" | grep -q '"errors":\\[\\]'; }
        if [ "${1:-}" = stop ]; then
          if succeeded && [ ! -e "$disabled" ]; then
            printf '%s\\n' "# Written by nestlab at the shutdown after cloud-init's first successful run." \\
              "# Remove this file to have cloud-init run at every boot again." >"$disabled.tmp" \\
              && mv "$disabled.tmp" "$disabled"
          fi
          exit 0
        fi
        if [ -f "$result" ]; then
          cloudinit=ran
          if succeeded; then status="done" code=0; else status=error code=1; fi
        elif [ -e "$disabled" ]; then
          # cloud-init is off: it succeeded on an earlier boot of this disk.
          cloudinit=skipped status="done" code=0
        else
          cloudinit=missing status=error code=2
        fi
        iid=$(cat "$root/var/lib/cloud/data/instance-id" 2>/dev/null || echo unknown)
        boot=$(cat "$root/proc/sys/kernel/random/boot_id" 2>/dev/null || echo unknown)
        line="NESTLAB ready instance=$iid status=$status code=$code cloudinit=$cloudinit boot=$boot"
        for tty in "$root/dev/ttyS0" "$root/dev/console"; do
          if [ -w "$tty" ]; then printf '%s\\r\\n' "$line" >"$tty" 2>/dev/null && break; fi
        done
        echo "$line"

        """

    static let reporterUnit = """
        [Unit]
        Description=nestlab: report readiness on the serial console
        # After cloud-final on a boot that runs cloud-init; after multi-user.target on a boot
        # that skips it (cloud-init is switched off at the first clean shutdown after it
        # succeeded). Without default dependencies multi-user.target does not order itself
        # after this unit, so being wanted by it and ordered after it is no cycle.
        DefaultDependencies=no
        Wants=network-online.target
        After=multi-user.target cloud-final.service network-online.target
        Conflicts=shutdown.target
        Before=shutdown.target

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/usr/local/lib/nestlab/report-ready
        ExecStop=/usr/local/lib/nestlab/report-ready stop
        StandardOutput=journal

        [Install]
        WantedBy=multi-user.target

        """

    /// The machine's seed. `memo` shares the `write_files` entry between the machines of one
    /// render (same bytes as without it).
    public static func render(_ input: Input, memo: WriteFilesMemo? = nil) -> Seed {
        let m = input.machine
        let network = networkConfig(m)
        let user = userData(input, memo: memo)
        let iid = "\(input.lab)-\(m.name)-" + String(Identity.hex(user + "\u{0}" + network).prefix(12))
        let meta = YAMLValue.map([
            ("instance-id", .string(iid)),
            ("local-hostname", .string(m.name)),
        ]).emit()
        return Seed(userData: user, metaData: meta, networkConfig: network, instanceID: iid)
    }

    /// The user-data document. With `memo`, it is emitted in three pieces (the entries before
    /// `write_files`, `write_files` from the memo, the entries after): a block mapping's entries
    /// are emitted independently of one another, so the pieces join to the same bytes as the
    /// whole, which debug builds (every test) check on every render.
    static func userData(_ input: Input, memo: WriteFilesMemo? = nil) -> String {
        let m = input.machine
        var files: [GuestFile] = [
            GuestFile(path: "/usr/local/lib/nestlab/report-ready", mode: "0755", text: reporterScript),
            GuestFile(path: "/etc/systemd/system/nestlab-ready.service", mode: "0644", text: reporterUnit),
        ]
        files.append(contentsOf: input.files)

        var runcmd: [YAMLValue] = [
            .flowList(["systemctl", "daemon-reload"].map { .string($0) }),
            .flowList(["systemctl", "enable", "--no-block", "--now", "nestlab-ready.service"].map { .string($0) }),
        ]
        for c in input.commands { runcmd.append(.flowList(c.map { .string($0) })) }

        var before: [(String, YAMLValue)] = [
            ("hostname", .string(m.name)),
            ("fqdn", .string("\(m.name).\(input.lab).nestlab")),
            ("manage_etc_hosts", .bool(true)),
            (
                "users",
                .list([
                    .map([
                        ("name", .string(user)),
                        ("gecos", .string("nestlab")),
                        ("shell", .string("/bin/bash")),
                        ("sudo", .string("ALL=(ALL) NOPASSWD:ALL")),
                        ("lock_passwd", .bool(true)),
                        ("ssh_authorized_keys", .list(input.sshAuthorizedKeys.map { .string($0) })),
                    ])
                ])
            ),
            ("ssh_pwauth", .bool(false)),
        ]
        before += hostKeyEntries(input.hostKey)
        before += [("disable_root", .bool(true)), ("resize_rootfs", .bool(true))]
        let after: [(String, YAMLValue)] = [
            ("runcmd", .list(runcmd)),
            ("final_message", .string("NESTLAB cloud-final finished after $UPTIME seconds")),
        ]
        let writeFiles = { ("write_files", YAMLValue.list(files.map(writeFile))) }
        let whole = { "#cloud-config\n" + YAMLValue.map(before + [writeFiles()] + after).emit() }
        guard let memo else { return whole() }
        let entry = memo.entry(for: files) { YAMLValue.map([writeFiles()]).emit() }
        // A piece that ends "open" (a `...` document end after a kept block scalar) would not join.
        guard !entry.hasSuffix("\n...\n") else { return whole() }
        let joined = "#cloud-config\n" + YAMLValue.map(before).emit() + entry + YAMLValue.map(after).emit()
        assert(joined == whole(), "user-data emitted in pieces differs from the whole document")
        return joined
    }

    /// One `write_files` item: text as a literal block, anything else (CR, tab, not UTF-8) base64.
    static func writeFile(_ f: GuestFile) -> YAMLValue {
        var pairs: [(String, YAMLValue)] = [
            ("path", .string(f.path)), ("permissions", .string(f.mode)), ("owner", .string("root:root")),
        ]
        // One pass over the raw bytes (Data's element iterator was 4% of a no-op `up`).
        let plain = f.content.withUnsafeBytes { !$0.contains(0x0D) && !$0.contains(0x09) }
        if plain, let text = String(data: f.content, encoding: .utf8) {
            pairs.append(("content", .block(text)))
        } else {
            pairs.append(("encoding", .string("b64")))
            pairs.append(("content", .string(f.content.base64EncodedString())))
        }
        return .map(pairs)
    }

    /// cloud-init's `ssh` module: the host keys it would have made are deleted and nestlab's
    /// ed25519 key is written instead (`/etc/ssh/ssh_host_ed25519_key`, 0600); with `ssh_keys`
    /// given, cloud-init generates no other type, so the guest's sshd offers exactly this key.
    static func hostKeyEntries(_ key: SSHHostKeyMaterial?) -> [(String, YAMLValue)] {
        guard let key else { return [] }
        return [
            ("ssh_deletekeys", .bool(true)),
            (
                "ssh_keys",
                .map([
                    ("ed25519_private", .block(key.privateKey)),
                    ("ed25519_public", .string(key.publicKey)),
                ])
            ),
        ]
    }

    /// network-config version 2 with static addresses, matched by MAC.
    static func networkConfig(_ m: Machine) -> String {
        var eths: [(String, YAMLValue)] = []
        for (i, nic) in m.nics.enumerated() {
            var e: [(String, YAMLValue)] = [
                ("match", .map([("macaddress", .quoted(nic.mac))])),
                ("set-name", .string("eth\(i)")),
                ("addresses", .list([.string("\(nic.address)/\(nic.network.cidr.prefix)")])),
            ]
            if i == 0, let gw = nic.network.effectiveGateway {
                e.append(("routes", .list([.map([("to", .string("0.0.0.0/0")), ("via", .string(gw.description))])])))
            }
            let dns =
                nic.network.dns.isEmpty
                ? (nic.network.mode == .bridge ? [] : [nic.network.cidr.firstHost]) : nic.network.dns
            if i == 0, !dns.isEmpty {
                e.append(("nameservers", .map([("addresses", .list(dns.map { .string($0.description) }))])))
            }
            eths.append(("nic\(i)", .map(e)))
        }
        return YAMLValue.map([("version", .int(2)), ("ethernets", .map(eths))]).emit()
    }
}
