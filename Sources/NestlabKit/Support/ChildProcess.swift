import Foundation

/// Runs a program with posix_spawn and reads its merged output line by line.
///
/// Used where nestlab streams a long-running tool (ssh) from a blocking thread:
/// Foundation's Process reaps children through its own run-loop machinery, which
/// does not run on our dispatch threads, so `waitUntilExit` could wait forever on
/// an exited child. Here `waitpid` does the reaping, deterministically.
enum ChildProcess {
    struct Result {
        var status: Int32
        var tail: [String]
    }

    static func run(_ argv: [String], onLine: (String) -> Void) throws -> Result {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HostError.system("cannot make a pipe", errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        // Children get a clean signal mask (test runners and our own signal handling block some).
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var dflt = sigset_t()
        sigemptyset(&dflt)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&dflt, s) }
        posix_spawnattr_setsigdefault(&attr, &dflt)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
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
