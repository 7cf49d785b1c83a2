import Foundation
import NestlabCore
import Synchronization

/// Bare-metal cluster nodes: the same node scripts as in VMs, copied and run over SSH
/// with the system OpenSSH client (the user's keys, agent and ~/.ssh/config).
public enum BareMetal {
    /// Extra ssh options from `NESTLAB_SSH_OPTIONS` (e.g. `-o ProxyJump=bastion -p 2222`), split on spaces.
    public static var extraOptions: [String] {
        (ProcessInfo.processInfo.environment["NESTLAB_SSH_OPTIONS"] ?? "").split(separator: " ").map(String.init)
    }

    /// `ssh` with options that never prompt and never hang on a dead host. With the lab's
    /// `knownHosts` (the node's key, read at `up`), the node is checked strictly against that
    /// file alone; ssh takes the first value of an option, so these come before `options`.
    static func ssh(_ target: String, _ remote: [String], options: [String] = extraOptions, knownHosts: URL? = nil)
        -> [String]
    {
        var argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=15"]
        if let knownHosts {
            argv += [
                "-o", "StrictHostKeyChecking=yes", "-o",
                "UserKnownHostsFile=\(SSHConfig.escapeTokens(knownHosts.path))",
                "-o", "GlobalKnownHostsFile=/dev/null",
            ]
        } else {
            argv += ["-o", "StrictHostKeyChecking=accept-new"]
        }
        return argv + options + [target, "--"] + remote
    }

    /// Runs as root on the node: directly for root@, through `sudo -n` otherwise.
    static func asRoot(_ target: String, _ argv: [String]) -> [String] {
        (target.hasPrefix("root@") ? [] : ["sudo", "-n"]) + argv
    }

    /// One shell word (the remote side of ssh always goes through a shell).
    static func quote(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@".contains($0)) }) {
            return s
        }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public struct Outcome: Sendable {
        public var node: String
        public var ok: Bool
        public var failedPhase: String?
        public var detail: String?
        public var tail: [String]
    }

    /// Copies the node's files (as a tar stream, root-owned, with their modes) and runs its
    /// entry command; output goes to `log` and phase lines to `onPhase`.
    public static func run(
        node: String, target: String, files: [NodeFile], command: [String], log: URL,
        sshOptions: [String] = extraOptions, knownHosts: URL? = nil,
        onPhase: @escaping @Sendable (String, String, String) -> Void
    ) async throws -> Outcome {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-node-\(node)-\(UUID().uuidString.prefix(8))")
        try SecretFile.createPrivateDirectory(at: staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        for f in files {
            let dest = staging.appendingPathComponent(String(f.path.drop { $0 == "/" }))
            try FileManager.default.createDirectory(
                at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try SecretFile.write(Data(f.content), to: dest, mode: f.mode)
        }
        // Copy: tar here | ssh node tar -x -C /. The archive names only the files, never a
        // directory: a "./" member would carry the staging directory's 0700 onto the node's
        // "/" (and "./etc" its mode onto /etc). Missing parents are made with the node's
        // defaults, and --no-overwrite-dir leaves existing directories as they are.
        let members = Set(files.map { "./" + String($0.path.drop { $0 == "/" }) }).sorted()
        let remoteTar = asRoot(target, ["tar", "-xpf", "-", "-C", "/", "--no-same-owner", "--no-overwrite-dir"]).map(
            quote)
        let copy =
            "tar --owner=0 --group=0 --no-recursion -C \(quote(staging.path)) -cf - "
            + members.map(quote).joined(separator: " ") + " | "
            + ssh(target, remoteTar, options: sshOptions, knownHosts: knownHosts).map(quote).joined(separator: " ")
        let copied = try await Blocking.run { try Self.stream(["/bin/sh", "-c", copy], log: log) { _ in } }
        guard copied.status == 0 else {
            return Outcome(
                node: node, ok: false, failedPhase: "copy-files",
                detail:
                    "copying the node files over ssh to \(target) failed (exit \(copied.status)): \(copied.tail.last ?? "")",
                tail: copied.tail)
        }
        let remote = asRoot(target, command).map(quote)
        let scanner = LockedScanner()
        let run = try await Blocking.run {
            try Self.stream(ssh(target, remote, options: sshOptions, knownHosts: knownHosts), log: log) { line in
                for e in scanner.feed(line) {
                    if case .phase(let name, let status, let detail) = e { onPhase(name, status, detail) }
                }
            }
        }
        let failed = scanner.phases.first { $0.status == "failed" }
        return Outcome(
            node: node, ok: run.status == 0, failedPhase: run.status == 0 ? nil : failed?.name ?? "ssh",
            detail: run.status == 0
                ? nil : failed?.detail ?? "ssh \(target) exited \(run.status): \(run.tail.last ?? "")",
            tail: run.tail)
    }

    /// Runs argv, appending its output to `log` line by line; returns the exit status and the last lines.
    static func stream(_ argv: [String], log: URL, onLine: (String) -> Void) throws -> (status: Int32, tail: [String]) {
        let logger = LabLog(file: log)
        let label = argv.first { $0.contains("@") } ?? argv.first ?? "?"
        let r = try ChildProcess.run(argv) { line in
            logger.write("[\(label)] \(line)")
            onLine(line)
        }
        return (r.status, r.tail)
    }

    /// A console scanner shared with the output-reading thread.
    final class LockedScanner: Sendable {
        private let state = Mutex<(scanner: ConsoleScanner, phases: [(name: String, status: String, detail: String)])>(
            (ConsoleScanner(), []))

        var phases: [(name: String, status: String, detail: String)] { state.withLock { $0.phases } }

        func feed(_ line: String) -> [ConsoleEvent] {
            state.withLock { s in
                let events = s.scanner.feed(Data((line + "\n").utf8))
                for case .phase(let n, let st, let d) in events { s.phases.append((n, st, d)) }
                return events
            }
        }
    }
}
