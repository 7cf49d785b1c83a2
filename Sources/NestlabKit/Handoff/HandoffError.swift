import Foundation
import NestlabCore
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Why the hand-off command did not succeed. The testbed is up in every case.
public enum HandoffError: Error, CustomStringConvertible, Equatable {
    /// The topology has no `handoff` section.
    case noHandoff(lab: String)
    case emptyCommand
    /// A program given as a path does not exist.
    case commandNotFound(command: String, workdir: String?)
    /// A program given by name is in no folder of `PATH`.
    case commandNotInPath(command: String, path: String)
    case notExecutable(String)
    case workdirMissing(String)
    /// The program exists but could not be started.
    case cannotStart(program: String, underlying: SubprocessError)
    /// The command ran and exited non-zero.
    case failed(command: String, exitCode: Int32, log: String)
    case signaled(command: String, signal: Int32, log: String)

    public var description: String {
        switch self {
        case .noHandoff(let lab):
            return "lab '\(lab)' has no handoff command; add handoff: {command: [./bench/run]} to its topology"
        case .emptyCommand:
            return "the handoff command is empty; give at least the program to run"
        case .commandNotFound(let c, let dir?):
            return "handoff command \(c) not found (relative to \(dir)); fix handoff.command or handoff.workdir"
        case .commandNotFound(let c, nil):
            return "handoff command \(c) not found; fix handoff.command"
        case .commandNotInPath(let c, let path):
            return "handoff command \(c) not found in PATH (\(path)); give its path, e.g. ./\(c), or install it"
        case .notExecutable(let p):
            return "handoff command \(p) is not executable; chmod +x it"
        case .workdirMissing(let d):
            return "handoff folder \(d) does not exist; fix handoff.workdir"
        case .cannotStart(let p, let e):
            return "cannot start handoff command \(p): \(e)"
        case .failed(let c, let code, let log):
            return "handoff command \(c) exited with \(code); its output is in \(log); the testbed is still up"
        case .signaled(let c, let signal, let log):
            return
                "handoff command \(c) was killed by signal \(signal); its output is in \(log); the testbed is still up"
        }
    }

    /// The exit code nestlab should pass on: the command's own when it ran and failed.
    public var exitCode: Int32? {
        switch self {
        case .failed(_, let code, _): return code
        case .signaled(_, let signal, _): return 128 + signal
        default: return nil
        }
    }
}
