import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock(2)` lock on a file, which also excludes other processes.
///
/// flock locks belong to the open file description, so two acquisitions in one process
/// (each with its own descriptor) exclude each other too. Waiting polls with
/// `LOCK_NB` and sleeps, so a waiter never blocks a cooperative-pool thread and can be
/// cancelled.
final class FileLock: Sendable {
    private let fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Waits until the lock at `path` is free and takes it; the file is created if needed.
    static func acquire(_ path: String, poll: Duration = .milliseconds(25)) async throws -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ArtifactError.file(operation: "open lock file", path: path, errno: errno) }
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd, path: path) }
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw ArtifactError.file(operation: "lock", path: path, errno: code)
            }
            do {
                try await Task.sleep(for: poll)
            } catch {
                close(fd)
                throw error
            }
        }
    }

    /// Releases the lock now (closing the descriptor in `deinit` would release it too).
    func release() {
        _ = flock(fd, LOCK_UN)
    }

    /// Runs `body` holding the lock at `path`.
    static func withLock<T: Sendable>(_ path: String, _ body: () async throws -> T) async throws -> T {
        let lock = try await acquire(path)
        defer { lock.release() }
        return try await body()
    }
}
