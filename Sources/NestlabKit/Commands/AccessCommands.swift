import Foundation
import NestlabCore

/// `nestlab ssh`, `exec`, `ssh-config` and `inventory`: reaching a lab that is up.
public enum AccessCommands {
    /// The lab's access as `up` recorded it. Bad input is a `UsageError` (exit 2) that lists
    /// what would be valid: an unknown lab names the labs there are; a lab that is not up says so.
    public static func load(lab: String, store: StateStore = .default()) throws -> LabAccess {
        guard lab.range(of: #"^[a-z][a-z0-9-]{0,29}$"#, options: .regularExpression) != nil else {
            throw UsageError(
                "'\(lab.prefix(64))' is not a lab name (lower-case letters, digits and '-'); \(known(store))")
        }
        let state = store.lab(lab)
        guard state.exists else { throw UsageError("there is no lab '\(lab)'; \(known(store))") }
        guard let access = try LabAccess.load(state) else {
            // Only a hint in the message: a state.json this nestlab cannot read does not replace the error.
            let file = (try? LabRecord.load(state)).map { " \($0.topologyPath)" } ?? " TOPOLOGY"
            throw UsageError("lab '\(lab)' is not up (run `nestlab up\(file)` first); \(known(store))")
        }
        return access
    }

    /// "labs that are up: a, b" (or that there are none).
    static func known(_ store: StateStore) -> String {
        let up = store.labs().filter { FileManager.default.fileExists(atPath: store.lab($0).access.path) }
        return up.isEmpty
            ? "no lab is up (nestlab up TOPOLOGY brings one up)" : "labs that are up: " + up.joined(separator: ", ")
    }

    /// One machine of the lab, or exit 2 with the machines there are.
    public static func machine(_ name: String, in access: LabAccess) throws -> MachineAccess {
        guard let m = access.machine(named: name) else {
            throw UsageError(
                "lab '\(access.lab)' has no machine '\(name.prefix(64))'; its machines: "
                    + access.machines.map(\.name).joined(separator: ", "))
        }
        return m
    }

    /// The machines `--machines a,b` or `--role R` choose (all when neither is given).
    public static func select(_ access: LabAccess, machines: [String]?, role: String?) throws -> [MachineAccess] {
        if machines != nil && role != nil { throw UsageError("give --machines or --role, not both") }
        if let machines {
            var out: [MachineAccess] = []
            for n in machines where !out.contains(where: { $0.name == n }) { out.append(try machine(n, in: access)) }
            if out.isEmpty {
                throw UsageError(
                    "--machines names no machine; the lab's machines: "
                        + access.machines.map(\.name).joined(separator: ", "))
            }
            return out
        }
        if let role {
            let out = access.machines.filter { $0.roles.contains(role) }
            if out.isEmpty {
                let roles = Set(access.machines.flatMap(\.roles)).sorted()
                throw UsageError(
                    "lab '\(access.lab)' has no machine with role '\(role.prefix(64))'; its roles: "
                        + roles.joined(separator: ", "))
            }
            return out
        }
        return access.machines
    }

    /// Writes the lab's SSH config afresh (from what `up` recorded) and returns its path.
    static func config(_ access: LabAccess) throws -> String {
        try SecretFile.write(try access.sshConfig(), to: access.state.sshConfig, durable: false)
        return access.state.sshConfig.path
    }

    /// `ssh -F CONFIG [options] NAME [-- command]`: what `nestlab ssh` runs.
    public static func sshArguments(_ access: LabAccess, _ m: MachineAccess, command: [String], batch: Bool) throws
        -> [String]
    {
        var argv = ["ssh", "-F", try config(access)]
        if batch { argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"] }
        argv.append(m.name)
        if !command.isEmpty { argv += ["--"] + command }
        return argv
    }

    // MARK: ssh

    /// Replaces this process with the system `ssh`: interactive without a command; with one,
    /// its exit code is the remote command's (ssh's own failures are 255).
    public static func ssh(lab: String, machine name: String, command: [String]) throws -> Never {
        let access = try load(lab: lab)
        let m = try machine(name, in: access)
        let argv = try sshArguments(access, m, command: command, batch: false)
        let cargs = argv.map { strdup($0) } + [nil]
        // nestlab ignores SIGPIPE for itself; ssh gets the default back (exec keeps ignored signals).
        signal(SIGPIPE, SIG_DFL)
        execvp("ssh", cargs)
        let e = errno
        throw OperationError("cannot run ssh: \(String(cString: strerror(e))) (install openssh-client)")
    }

    // MARK: exec

    public struct ExecResult: Codable, Sendable {
        public var machine: String
        public var exitCode: Int32
        public var stdout: String
        public var stderr: String
        public var durationSeconds: Double
        public var timedOut: Bool
    }

    public struct ExecReport: Codable, Sendable {
        public var lab: String
        public var command: [String]
        /// The worst (highest) exit code of all machines.
        public var exitCode: Int32
        public var machines: [ExecResult]
    }

    /// Runs `command` on the chosen machines at once (`parallel` at a time), each over ssh
    /// with the lab's config. Text output prefixes each line with the machine's name, as the
    /// lines come; the exit code is the worst of all.
    public static func exec(
        lab: String, machines: [String]?, role: String?, parallel: Int, timeout: Double?,
        command: [String], format: OutputFormat
    ) async throws -> Int32 {
        guard !command.isEmpty else {
            throw UsageError("give the command after --, e.g. nestlab exec \(lab) -- hostname")
        }
        guard parallel >= 1 else { throw UsageError("--parallel must be at least 1") }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw UsageError("--timeout must be a positive number of seconds")
        }
        let access = try load(lab: lab)
        let chosen = try select(access, machines: machines, role: role)
        let width = chosen.map(\.name.count).max() ?? 0
        let text = format == .text
        var results: [String: ExecResult] = [:]
        try await withThrowingTaskGroup(of: ExecResult.self) { group in
            var next = 0
            func start() throws {
                let m = chosen[next]
                next += 1
                let argv = try sshArguments(access, m, command: command, batch: true)
                group.addTask {
                    let prefix = m.name.padding(toLength: width, withPad: " ", startingAt: 0) + " | "
                    let r = try await Blocking.run {
                        try ChildProcess.capture(argv, timeout: timeout) { stream, line in
                            guard text else { return }
                            if stream == .stdout { Console.out(prefix + line) } else { Console.err(prefix + line) }
                        }
                    }
                    return ExecResult(
                        machine: m.name, exitCode: r.status, stdout: r.stdout, stderr: r.stderr,
                        durationSeconds: (r.seconds * 1000).rounded() / 1000, timedOut: r.timedOut)
                }
            }
            while next < min(parallel, chosen.count) { try start() }
            while let r = try await group.next() {
                results[r.machine] = r
                if text, r.exitCode != 0 {
                    let why =
                        r.timedOut
                        ? "timed out after \(timeout.map { String(format: "%g", $0) } ?? "?") s" : "exit \(r.exitCode)"
                    Console.err(
                        "nestlab: \(r.machine): \(why)"
                            + (r.exitCode == 255 && !r.timedOut
                                ? " (ssh could not connect, or the connection failed)" : ""))
                }
                if next < chosen.count { try start() }
            }
        }
        let ordered = chosen.compactMap { results[$0.name] }
        let worst = ordered.map(\.exitCode).max() ?? 0
        if format == .json {
            Console.out(
                try JSONOutput.string(ExecReport(lab: access.lab, command: command, exitCode: worst, machines: ordered))
            )
        }
        return worst
    }

    // MARK: ssh-config and inventory

    public static func sshConfig(lab: String) throws {
        let access = try load(lab: lab)
        Console.outRaw(Data(try access.sshConfig().utf8))
    }

    public enum InventoryForm {
        case yaml
        case list
        case host(String)
    }

    public static func inventory(lab: String, form: InventoryForm) throws {
        let access = try load(lab: lab)
        let configFile = try config(access)
        switch form {
        case .yaml:
            Console.outRaw(Data(AnsibleInventory.yaml(access.machines, configFile: configFile).utf8))
        case .list:
            Console.out(try jsonText(AnsibleInventory.list(access.machines, configFile: configFile)))
        case .host(let name):
            Console.out(try jsonText(AnsibleInventory.host(try machine(name, in: access), configFile: configFile)))
        }
    }

    static func jsonText(_ object: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
