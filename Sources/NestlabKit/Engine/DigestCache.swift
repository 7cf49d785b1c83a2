import Crypto
import Foundation
import NestlabCore
import Synchronization

/// Content digests of local files, remembered by path, size, mtime and inode so
/// that a 2 GiB image is hashed once, not on every `plan`.
public final class DigestCache: Sendable {
    private let file: URL
    private let entries: Mutex<[String: Entry]>

    struct Entry: Codable {
        var size: UInt64
        var mtime: Double
        var inode: UInt64
        var sha256: String
    }

    public init(cacheRoot: URL) {
        file = cacheRoot.appendingPathComponent("digests.json")
        entries = Mutex((try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: file))) ?? [:])
    }

    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let x = environment["XDG_CACHE_HOME"], !x.isEmpty {
            return URL(fileURLWithPath: x).appendingPathComponent("nestlab")
        }
        return URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".cache/nestlab")
    }

    public func sha256(of path: String) throws -> LocalFile {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ImageError.missingFile(path, errno: errno) }
        let size = UInt64(st.st_size)
        let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        let inode = UInt64(st.st_ino)
        if let e = entries.withLock({ $0[path] }), e.size == size, e.mtime == mtime, e.inode == inode {
            return LocalFile(path: path, sha256: e.sha256, size: size)
        }
        let digest = try Self.hash(path)
        entries.withLock { entries in
            entries[path] = Entry(size: size, mtime: mtime, inode: inode, sha256: digest)
            try? FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let data = try? JSONEncoder().encode(entries) { try? data.write(to: file, options: .atomic) }
        }
        return LocalFile(path: path, sha256: digest, size: size)
    }

    static func hash(_ path: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ImageError.missingFile(path, errno: errno) }
        defer { try? h.close() }
        var hasher = SHA256()
        while let chunk = try h.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
