import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn`, reaped with `waitpid`.
///
/// This is the one way nestlab and its tests start programs. Foundation's `Process` is not
/// used anywhere, for two reasons seen in CI:
/// - its exit notification is a socket pair created without close-on-exec, and the child's
///   descriptor table is listed before the spawn, so a program started at the same moment from
///   another thread can inherit that socket; `waitUntilExit` then spins until that other program
///   ends (a test HTTP server lives for minutes: the unit tier stalled for 15 minutes);
/// - it reaps through a run loop on its own thread, not deterministically on the caller's.
///
/// Here every child gets stdin, stdout and stderr and nothing else (every descriptor from 3 up is
/// closed in the child, whenever it was opened), a clean signal mask with default handlers for
/// the signals test runners and nestlab block or ignore, and `wait()` is `waitpid`, which returns
/// once the whole thread group is gone (so a server's listening socket is closed by then).
public final class SpawnedProcess: Sendable {
    /// Where the child's stdin comes from.
    public enum Input: Sendable {
        case null
        case inherit
        /// A pipe; write to ``standardInput`` and close it to send EOF.
        case pipe
        case file(String)
    }

    /// Where the child's stdout or stderr goes.
    public enum Output: Sendable {
        case null
        case inherit
        /// A pipe; read ``standardOutput`` or ``standardError``.
        case pipe
        /// A file, created or truncated, mode 0600.
        case file(String)
        /// stderr only: the same place as stdout.
        case stdout
        /// A descriptor of this process (dup2'd; the caller keeps and closes its own).
        case descriptor(Int32)
    }

    public let pid: pid_t
    /// The write end of the child's stdin, for `.pipe`.
    public let standardInput: FileHandle?
    /// The read ends of the child's stdout and stderr, for `.pipe`.
    public let standardOutput: FileHandle?
    public let standardError: FileHandle?
    private let exitStatus = Mutex<Ended?>(nil)

    private struct Ended {
        var code: Int32
        var signal: Int32?
    }

    private init(pid: pid_t, stdin: FileHandle?, stdout: FileHandle?, stderr: FileHandle?) {
        self.pid = pid
        standardInput = stdin
        standardOutput = stdout
        standardError = stderr
    }

    /// Starts `argv` (`argv[0]` is looked up in PATH). `environment`, when given, is the whole
    /// environment; `directory` is the child's working directory.
    public static func start(
        _ argv: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdin: Input = .null, stdout: Output = .inherit, stderr: Output = .inherit,
        newProcessGroup: Bool = false
    ) throws -> SpawnedProcess {
        guard let program = argv.first, !program.isEmpty else { throw SpawnError(program: "", code: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Our ends of the pipes, and the child's ends (closed here once it has them).
        var ours: [Int32] = [-1, -1, -1]
        var theirs: [Int32] = []
        defer { for fd in theirs { close(fd) } }
        func fail(_ code: Int32) -> SpawnError {
            for fd in ours where fd >= 0 { close(fd) }
            return SpawnError(program: program, code: code)
        }

        switch stdin {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit: break
        case .file(let path): posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        case .pipe:
            var fds: [Int32] = [-1, -1]
            guard cloexecPipe(&fds) == 0 else { throw fail(errno) }
            ours[0] = fds[1]
            theirs.append(fds[0])
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        }
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            if let code = redirect(fd, to: output, &actions, ours: &ours, theirs: &theirs) { throw fail(code) }
        }
        if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
        if let directory {
            guard let addChdir else { throw fail(ENOSYS) }
            let rc = addChdir(&actions, directory)
            guard rc == 0 else { throw fail(rc) }
        }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        configure(&attr, newProcessGroup: newProcessGroup)

        var pid: pid_t = 0
        let rc = spawn(&pid, argv, &actions, &attr, environment: environment)
        guard rc == 0 else { throw fail(rc) }
        func handle(_ fd: Int32) -> FileHandle? { fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : nil }
        return SpawnedProcess(pid: pid, stdin: handle(ours[0]), stdout: handle(ours[1]), stderr: handle(ours[2]))
    }

    /// Sets up the child's end of an output (`fd` 1 or 2); the errno when a pipe cannot be made.
    private static func redirect(
        _ fd: Int32, to output: Output, _ actions: inout posix_spawn_file_actions_t, ours: inout [Int32],
        theirs: inout [Int32]
    ) -> Int32? {
        switch output {
        case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
        case .inherit: break
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        case .stdout: posix_spawn_file_actions_adddup2(&actions, 1, fd)
        case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
        case .pipe:
            var fds: [Int32] = [-1, -1]
            guard cloexecPipe(&fds) == 0 else { return errno }
            ours[Int(fd)] = fds[0]
            theirs.append(fds[1])
            posix_spawn_file_actions_adddup2(&actions, fds[1], fd)
        }
        return nil
    }

    /// No signal blocked, the usual ones at their default action, and a process group of its own when asked.
    private static func configure(_ attr: inout posix_spawnattr_t, newProcessGroup: Bool) {
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
    }

    /// `posix_spawnp` with `argv` and the environment (this process's when nil); its return code.
    private static func spawn(
        _ pid: inout pid_t, _ argv: [String], _ actions: inout posix_spawn_file_actions_t,
        _ attr: inout posix_spawnattr_t, environment: [String: String]?
    ) -> Int32 {
        let program = argv[0]
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        if let environment {
            var env = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for e in env { free(e) } }
            return env.withUnsafeMutableBufferPointer {
                posix_spawnp(&pid, program, &actions, &attr, cargs, $0.baseAddress)
            }
        } else {
            return posix_spawnp(&pid, program, &actions, &attr, cargs, environ)
        }
    }

    /// Sends `signal` to the child, or to its process group (started with `newProcessGroup`).
    /// Nothing is sent once the child has been reaped: its pid may belong to another process.
    public func signal(_ signal: Int32, toGroup: Bool = false) {
        exitStatus.withLock { status in
            guard status == nil else { return }
            _ = kill(toGroup ? -pid : pid, signal)
        }
    }

    /// Waits for the child to end and returns its exit code, or 128 + the signal that ended it
    /// (as shells report it). Safe to call more than once and from several threads.
    @discardableResult
    public func wait() -> Int32 {
        if let ended = exitStatus.withLock({ $0 }) { return ended.code }
        // Block until it has ended without reaping it, outside the lock: `signal` from another
        // thread (to end it) must not wait for it to end. The pid stays this child's until the
        // reap below, which happens under the lock, so `signal` never reaches another process.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        return exitStatus.withLock { status in
            if let status { return status.code }
            var raw: Int32 = 0
            var rc: pid_t
            repeat { rc = waitpid(pid, &raw, 0) } while rc < 0 && errno == EINTR
            let ended = rc < 0 ? Ended(code: 255, signal: nil) : Self.ended(raw)
            status = ended
            return ended.code
        }
    }

    /// The signal that ended the child, once ``wait()`` has seen it end; nil when it exited.
    public var terminationSignal: Int32? {
        exitStatus.withLock { $0?.signal }
    }

    /// Whether the child has ended (reaping it if so), without waiting.
    public var hasExited: Bool {
        exitStatus.withLock { status in
            if status != nil { return true }
            var raw: Int32 = 0
            let rc = waitpid(pid, &raw, WNOHANG)
            guard rc == pid || (rc < 0 && errno == ECHILD) else { return false }
            status = rc == pid ? Self.ended(raw) : Ended(code: 255, signal: nil)
            return true
        }
    }

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (the C macros are not imported).
    private static func ended(_ raw: Int32) -> Ended {
        raw & 0x7f == 0
            ? Ended(code: (raw >> 8) & 0xff, signal: nil) : Ended(code: 128 + (raw & 0x7f), signal: raw & 0x7f)
    }

    // glibc has these (2.34, 2.29 and 2.9), but Swift's Glibc module declares none of them
    // (they need _GNU_SOURCE), so they are looked up once.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private static let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
    private static let pipe2Function: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// A pipe whose ends are close-on-exec from the start (pipe2), so no program spawned
    /// meanwhile by another thread inherits them.
    public static func cloexecPipe(_ fds: inout [Int32]) -> Int32 {
        if let pipe2Function { return fds.withUnsafeMutableBufferPointer { pipe2Function($0.baseAddress, O_CLOEXEC) } }
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return 0
    }
}
