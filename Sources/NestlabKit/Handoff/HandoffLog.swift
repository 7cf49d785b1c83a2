import Foundation
import NestlabCore
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The lab log as the hand-off writes it: whole lines, one writer at a time.
///
/// stdout and stderr arrive as independent chunks; each stream is cut at newlines so
/// that lines of the two never interleave mid-line in the log.
final class HandoffLog: Sendable {
    private let handle: FileHandle
    /// Unterminated last lines per stream; every write to `handle` happens under this Mutex, so
    /// lines of the two streams never interleave.
    private let pending = Mutex<[HandoffRunner.Stream: [UInt8]]>([:])

    init(url: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HandoffLogError(path: url.path, errno: errno) }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    func write(_ text: String) {
        pending.withLock { _ in handle.write(Data(text.utf8)) }
    }

    func append(_ stream: HandoffRunner.Stream, _ bytes: [UInt8]) {
        pending.withLock { pending in
            var buffer = pending[stream, default: []]
            buffer.append(contentsOf: bytes)
            if let last = buffer.lastIndex(of: 0x0A) {
                handle.write(Data(buffer[...last]))
                buffer.removeSubrange(...last)
            }
            pending[stream] = buffer
        }
    }

    /// Writes what is left of unterminated last lines, each ended with a newline.
    func finish() {
        pending.withLock { pending in
            for stream in [HandoffRunner.Stream.standardOutput, .standardError] {
                if let rest = pending[stream], !rest.isEmpty { handle.write(Data(rest + [0x0A])) }
            }
            pending = [:]
        }
    }
}
