import Foundation
import NestlabCore

public enum NestlabVersion {
    public static let string = "0.1.0"
}

/// How a command prints its result.
public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json
}

/// Exit codes: 0 success, 1 an operation failed, 2 bad input.
public enum NestlabExit {
    public static func code(for error: any Error) -> Int32 {
        if error is TopologyError || error is UsageError { return 2 }
        // The hand-off command's own exit code goes through (nestlab handoff is a wrapper).
        if let h = error as? HandoffError, let code = h.exitCode { return code }
        return 1
    }
}

/// Bad input that is not a topology finding (e.g. an unknown lab name).
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// An operation that failed (exit 1), with a message that says where.
public struct OperationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Writes to stdout/stderr without buffering surprises between the two.
public enum Console {
    public static func out(_ s: String) { write(STDOUT_FILENO, s.hasSuffix("\n") ? s : s + "\n") }

    public static func err(_ s: String) { write(STDERR_FILENO, s.hasSuffix("\n") ? s : s + "\n") }

    /// Writes `s` to stderr as it is (the live view's cursor movements).
    public static func errRaw(_ s: String) { write(STDERR_FILENO, s) }

    /// Writes the whole line with write(2). A reader that went away (`nestlab status | head -1`)
    /// gives EPIPE, since SIGPIPE is ignored (see ``ignoreSIGPIPE()``): the output is dropped
    /// and the command goes on, instead of dying silently of SIGPIPE or trapping in FileHandle.
    static func write(_ fd: Int32, _ s: String) { write(fd, Array(s.utf8)) }

    /// Writes raw bytes (a kubeconfig) to stdout.
    public static func outRaw(_ data: Data) { write(STDOUT_FILENO, [UInt8](data)) }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return  // EPIPE, EBADF…: nobody reads this any more
            }
            done += n
        }
    }

    /// Ignores SIGPIPE for the whole process: a libvirt connection whose daemon died (or whose
    /// SSH transport closed) and a closed stdout then give EPIPE errors that nestlab reports,
    /// instead of killing it with exit 141 and no message. Child processes get the default back.
    public static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    public static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    public static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
}

/// Encodes a value as pretty, key-sorted JSON for `--output json`.
public enum JSONOutput {
    public static func string<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}

/// A diagnostic in JSON form.
public struct DiagnosticJSON: Codable, Sendable {
    public var severity: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var path: String
    public var message: String
    public var hint: String?

    public init(_ d: Diagnostic) {
        severity = d.severity.rawValue
        file = d.location?.file
        line = d.location?.line
        column = d.location?.column
        path = d.path
        message = d.message
        hint = d.hint
    }
}
