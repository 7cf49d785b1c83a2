import Foundation

/// An exclusive, process-wide lock on a lab (flock on its `lock` file).
///
/// The kernel drops the lock when the process dies, so a crashed run never
/// leaves a lab locked.
public final class LabLock: Sendable {
    // The descriptor is only used in init and deinit.
    private let fd: Int32
    public let lab: String

    public init(_ state: LabState, command: String) throws {
        try state.create()
        lab = state.name
        let fd = open(state.lockFile.path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw StateError.cannotLock(state.lockFile.path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var holder = "unknown holder"
            if e == EWOULDBLOCK, let text = try? String(contentsOf: state.lockFile, encoding: .utf8),
                !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            {
                holder = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            close(fd)
            if e == EWOULDBLOCK { throw StateError.busy(lab: state.name, holder: holder) }
            throw StateError.cannotLock(state.lockFile.path, errno: e)
        }
        self.fd = fd
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "pid \(getpid()), `nestlab \(command)`, since \(stamp)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
