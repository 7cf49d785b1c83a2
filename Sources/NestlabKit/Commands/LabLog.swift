import Foundation
import NestlabCore
import Synchronization

/// Appends timestamped lines to the lab's log file (never secrets: only progress and errors).
final class LabLog: Sendable {
    private let handle: Mutex<FileHandle?>

    init(file: URL) {
        try? FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let h = try? FileHandle(forWritingTo: file)
        _ = try? h?.seekToEnd()
        handle = Mutex(h)
    }

    func write(_ line: String) {
        let stamp = Date().formatted(.iso8601)
        handle.withLock { h in try? h?.write(contentsOf: Data("\(stamp) \(line)\n".utf8)) }
    }

    deinit { handle.withLock { h in try? h?.close() } }
}
