import Foundation
import NestlabCore

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
