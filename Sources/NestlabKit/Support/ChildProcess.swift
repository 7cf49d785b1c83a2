import Foundation

/// Runs a program with posix_spawn and reads its merged output line by line.
///
/// Used where nestlab streams a long-running tool (ssh) from a blocking thread:
/// Foundation's Process reaps children through its own run-loop machinery, which
/// does not run on our dispatch threads, so `waitUntilExit` could wait forever on
/// an exited child. Here `waitpid` does the reaping, deterministically.
enum ChildProcess {
    /// Children get a clean signal mask and default handlers for the signals nestlab and test
    /// runners block or ignore (SIGPIPE above all); optionally a process group of their own.
    /// The child gets stdin, stdout and stderr and nothing else. A program started at the same
    /// moment from another thread must not inherit our pipes (a daemon holding one would keep
    /// `capture` from ever seeing EOF), and ours must not inherit another's descriptors (a
    /// daemon holding Foundation.Process's exit-notification socket keeps that Process's
    /// `waitUntilExit` spinning until the daemon ends): the pipes are O_CLOEXEC, and every
    /// descriptor from 3 up is closed in the child.
    static func closeTheRest(_ actions: inout posix_spawn_file_actions_t) {
        if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
    }

    // glibc has both (2.34 and 2.9), but Swift's Glibc module declares neither (they need _GNU_SOURCE).
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private static let pipe2Function: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// A pipe whose ends are close-on-exec from the start (pipe2), so no program spawned
    /// meanwhile by another thread inherits them.
    static func cloexecPipe(_ fds: inout [Int32]) -> Int32 {
        if let pipe2Function { return fds.withUnsafeMutableBufferPointer { pipe2Function($0.baseAddress, O_CLOEXEC) } }
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    static func cleanSignals(_ attr: inout posix_spawnattr_t, newProcessGroup: Bool = false) {
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var dflt = sigset_t()
        sigemptyset(&dflt)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&dflt, s) }
        posix_spawnattr_setsigdefault(&attr, &dflt)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
    }

    struct Result {
        var status: Int32
        var tail: [String]
    }

    static func run(_ argv: [String], onLine: (String) -> Void) throws -> Result {
        var fds: [Int32] = [0, 0]
        guard cloexecPipe(&fds) == 0 else { throw HostError.system("cannot make a pipe", errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        closeTheRest(&actions)
        // Children get a clean signal mask (test runners and our own signal handling block some).
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        cleanSignals(&attr)
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw HostError.system("cannot run \(argv[0])", errno: rc)
        }
        var tail: [String] = []
        var partial = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 8192)
        func emit(_ bytes: ArraySlice<UInt8>) {
            let line = String(decoding: bytes, as: UTF8.self)
            onLine(line)
            tail.append(line)
            if tail.count > 30 { tail.removeFirst() }
        }
        while true {
            let n = read(fds[0], &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            partial += buf[0..<n]
            while let nl = partial.firstIndex(of: 0x0A) {
                emit(partial[0..<nl])
                partial.removeSubrange(0...nl)
            }
        }
        if !partial.isEmpty { emit(partial[...]) }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
        let exited = status & 0x7f == 0
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), tail: tail)
    }
}

extension ChildProcess {
    struct Captured: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The program ran past its time and was ended (SIGTERM, then SIGKILL after 2 s).
        var timedOut: Bool
        var seconds: Double
    }

    enum Stream: Sendable { case stdout, stderr }

    /// Runs argv with stdin from `/dev/null` (or the terminal's when `inheritStdin`), and its
    /// stdout and stderr read apart; `onLine` sees each line as it comes. A run longer than
    /// `timeout` seconds is ended and reported as `timedOut` (status 124, as timeout(1) says).
    static func capture(_ argv: [String], timeout: Double? = nil, environment: [String: String]? = nil,
                        onLine: ((Stream, String) -> Void)? = nil) throws -> Captured {
        let started = Date()
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard cloexecPipe(&outPipe) == 0 else { throw HostError.system("cannot make a pipe", errno: errno) }
        guard cloexecPipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw HostError.system("cannot make a pipe", errno: errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        closeTheRest(&actions)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group: a timeout ends ssh and whatever it started (a ProxyCommand).
        cleanSignals(&attr, newProcessGroup: true)
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var envStrings: [UnsafeMutablePointer<CChar>?]?
        if let environment {
            envStrings = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for e in envStrings ?? [] { free(e) } }
        let rc: Int32
        if var env = envStrings {
            rc = env.withUnsafeMutableBufferPointer { posix_spawnp(&pid, argv[0], &actions, &attr, cargs, $0.baseAddress) }
        } else {
            rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargs, environ)
        }
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw HostError.system("cannot run \(argv[0])", errno: rc)
        }
        var out = [UInt8](), err = [UInt8]()
        var partial: [Stream: [UInt8]] = [.stdout: [], .stderr: []]
        func feed(_ s: Stream, _ bytes: ArraySlice<UInt8>) {
            if s == .stdout { out += bytes } else { err += bytes }
            guard let onLine else { return }
            partial[s, default: []] += bytes
            while let nl = partial[s]!.firstIndex(of: 0x0A) {
                onLine(s, String(decoding: partial[s]![..<nl], as: UTF8.self))
                partial[s]!.removeSubrange(0...nl)
            }
        }
        var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0), pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
        var open = 2
        var timedOut = false
        var killAt: Date?
        var buf = [UInt8](repeating: 0, count: 16384)
        while open > 0 {
            var wait: Int32 = -1
            if let timeout {
                let left = timeout - Date().timeIntervalSince(started)
                if left <= 0, !timedOut {
                    timedOut = true
                    kill(-pid, SIGTERM)
                    killAt = Date().addingTimeInterval(2)
                }
                wait = timedOut ? 200 : Int32(min(left * 1000, 1000)) + 1
            }
            if let killAt, Date() >= killAt { kill(-pid, SIGKILL) }
            let n = poll(&fds, nfds_t(fds.count), wait)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { continue }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let r = read(fds[i].fd, &buf, buf.count)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                } else {
                    feed(i == 0 ? .stdout : .stderr, buf[0..<r])
                }
            }
        }
        if let onLine {
            for s in [Stream.stdout, .stderr] where !(partial[s] ?? []).isEmpty {
                onLine(s, String(decoding: partial[s]!, as: UTF8.self))
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let code = timedOut ? 124 : (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f))
        return Captured(status: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                        timedOut: timedOut, seconds: Date().timeIntervalSince(started))
    }
}
