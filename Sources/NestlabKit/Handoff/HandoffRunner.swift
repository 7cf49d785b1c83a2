import Foundation
import NestlabCore
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs a topology's hand-off command (the benchmark runner) against a finished testbed.
///
/// The command runs without a shell, in the topology's `handoff.workdir` (default: the
/// topology file's folder), with the caller's environment plus `handoff.env`, and with
/// `KUBECONFIG` and `NESTLAB_TESTBED` set by nestlab (they win over `handoff.env`, so
/// the runner always sees this testbed), and `NESTLAB_BIN`, the running nestlab (unless
/// set already). Its output goes to the terminal as it comes and
/// is appended to the lab log. Whatever the command does, nestlab leaves the testbed up.
public struct HandoffRunner: Sendable {
    public enum Stream: Sendable, Hashable { case standardOutput, standardError }

    /// Program and arguments, as in the topology.
    public var command: [String]
    /// Absolute folder the command runs in, and against which a relative program path is resolved.
    public var workdir: String
    /// The complete environment of the command.
    public var environment: [String: String]
    /// The lab log the output is appended to (created 0600 when missing).
    public var logFile: URL
    /// Where output goes as it arrives; the terminal by default.
    public var echo: @Sendable (Stream, [UInt8]) -> Void

    /// A runner with an explicit command, folder and full environment.
    public init(
        command: [String], workdir: String, environment: [String: String], logFile: URL,
        echo: @escaping @Sendable (Stream, [UInt8]) -> Void = HandoffRunner.terminal
    ) {
        self.command = command
        self.workdir = workdir
        self.environment = environment
        self.logFile = logFile
        self.echo = echo
    }

    /// A runner for a topology's `handoff` section.
    ///
    /// - Parameters:
    ///   - topologyFile: the topology's path; its folder is the default working folder.
    ///   - kubeconfig: the value of `KUBECONFIG`: one path, or several joined with `:`.
    ///   - testbed: the testbed.json the command gets as `NESTLAB_TESTBED`.
    ///   - logFile: the lab log (`LabState.log`).
    ///   - baseEnvironment: what the command inherits (nestlab's own environment by default).
    public init(
        handoff: Handoff, topologyFile: String, kubeconfig: String, testbed: URL, logFile: URL,
        baseEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        echo: @escaping @Sendable (Stream, [UInt8]) -> Void = HandoffRunner.terminal
    ) {
        let dir = URL(fileURLWithPath: topologyFile).standardizedFileURL.deletingLastPathComponent().path
        var env = baseEnvironment
        for (k, v) in handoff.env { env[k] = v }
        env["KUBECONFIG"] = kubeconfig
        env["NESTLAB_TESTBED"] = testbed.standardizedFileURL.path
        // The nestlab that runs the hand-off, for a runner that calls it back (topologies/bench/run).
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            env["NESTLAB_BIN"] == nil
        {
            env["NESTLAB_BIN"] = me
        }
        self.init(
            command: handoff.command, workdir: handoff.workdir ?? dir, environment: env, logFile: logFile, echo: echo)
    }

    /// Writes stdout chunks to nestlab's stdout and stderr chunks to its stderr.
    public static let terminal: @Sendable (Stream, [UInt8]) -> Void = { stream, bytes in
        let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(bytes))
    }

    /// Runs the command to its end.
    ///
    /// - Returns: 0, the command's exit code, when it succeeds.
    /// - Throws: `HandoffError.failed` with the exit code when it fails, `.signaled` when a
    ///   signal ends it, or an error saying why it could not start (missing program,
    ///   missing folder).
    @discardableResult
    public func run() async throws -> Int32 {
        guard let program = command.first, !program.isEmpty else { throw HandoffError.emptyCommand }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workdir, isDirectory: &isDir), isDir.boolValue else {
            throw HandoffError.workdirMissing(workdir)
        }
        let executable = try resolve(program)

        let log = try HandoffLog(url: logFile)
        let started = Date()
        log.write("== nestlab handoff \(Testbed.timestamp(started)): \(Self.shellQuoted(command)) (in \(workdir))\n")

        let result: ExecutionResult<Void, SequenceOutput, SequenceOutput>
        do {
            result = try await launch(executable, log: log, attempt: 1)
        } catch let e as SubprocessError {
            log.finish()
            log.write("== handoff could not run: \(e)\n")
            throw HandoffError.cannotStart(program: program, underlying: e)
        }
        log.finish()
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        switch result.terminationStatus {
        case .exited(let code):
            log.write("== handoff exited with \(code) after \(seconds)s\n")
            guard code == 0 else {
                throw HandoffError.failed(command: program, exitCode: code, log: logFile.path)
            }
            return 0
        case .signaled(let signal):
            log.write("== handoff killed by signal \(signal) after \(seconds)s\n")
            throw HandoffError.signaled(command: program, signal: signal, log: logFile.path)
        }
    }

    /// Starts the program in `workdir` with the environment, and copies its streams to the
    /// terminal (`echo`) and to the log until it ends.
    ///
    /// ETXTBSY: exec refuses a file that some process still holds open for writing. A runner
    /// written a moment ago (by a script, or by another thread's fork that inherited the
    /// descriptor) hits this briefly; it clears once that descriptor closes.
    private func launch(_ executable: String, log: HandoffLog, attempt: Int) async throws
        -> ExecutionResult<Void, SequenceOutput, SequenceOutput>
    {
        let echo = self.echo
        let env = Dictionary(
            environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) },
            uniquingKeysWith: { _, last in last })
        /// Copies one of the command's streams to the terminal (`echo`) and to the log.
        @Sendable func pump(_ chunks: SubprocessOutputSequence, _ stream: Stream) async throws {
            for try await chunk in chunks {
                let bytes = chunk.withUnsafeBytes { Array($0) }
                echo(stream, bytes)
                log.append(stream, bytes)
            }
        }
        do {
            return try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(Array(command.dropFirst())),
                environment: .custom(env),
                workingDirectory: FilePath(workdir), input: .none, output: .sequence, error: .sequence
            ) { execution in
                async let out: Void = pump(execution.standardOutput, .standardOutput)
                async let err: Void = pump(execution.standardError, .standardError)
                _ = try await (out, err)
            }
        } catch let e as SubprocessError where attempt < 5 && "\(e)".contains("Text file busy") {
            try? await Task.sleep(nanoseconds: UInt64(attempt) * 200_000_000)
            return try await launch(executable, log: log, attempt: attempt + 1)
        }
    }

    /// The absolute path of the program: relative to `workdir` when it has a `/`, else from `PATH`.
    func resolve(_ program: String) throws -> String {
        let fm = FileManager.default
        if program.contains("/") {
            let path =
                program.hasPrefix("/")
                ? program
                : URL(fileURLWithPath: workdir).appendingPathComponent(program).standardizedFileURL.path
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw HandoffError.commandNotFound(command: program, workdir: program.hasPrefix("/") ? nil : workdir)
            }
            guard fm.isExecutableFile(atPath: path) else { throw HandoffError.notExecutable(path) }
            return path
        }
        let searchPath = environment["PATH"] ?? ""
        for dir in searchPath.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(program).path
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
                fm.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        throw HandoffError.commandNotInPath(command: program, path: searchPath)
    }

    /// The command as a shell would need it typed, for the log.
    static func shellQuoted(_ argv: [String]) -> String {
        argv.map { a in
            if !a.isEmpty, a.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0)) }) {
                return a
            }
            return "'" + a.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
