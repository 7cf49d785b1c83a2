import Crypto
import Foundation
import NestlabCore
import Synchronization

/// Where a base image's bytes are on this machine, and their identity.
public struct LocalImage: Sendable, Hashable {
    public var image: Image
    public var disk: LocalFile
    public var kernel: LocalFile?
    public var initrd: LocalFile?
}

public struct LocalFile: Sendable, Hashable {
    public var path: String
    public var sha256: String
    public var size: UInt64
}

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

public enum ImageError: Error, CustomStringConvertible {
    case missingFile(String, errno: Int32)
    case notFetched(image: String, url: String)

    public var description: String {
        switch self {
        case .missingFile(let p, let e):
            var hint = ""
            if p.contains("nestlab/test-image") { hint = "; build it with Tests/Scripts/build-test-image" }
            return "cannot read image file \(p): \(String(cString: strerror(e)))\(hint)"
        case .notFetched(let i, let u):
            return
                "image '\(i)' (\(u)) is not in the artifact cache; `nestlab cache fetch FILE` (or `nestlab up`) downloads it"
        }
    }
}

/// Names and places of base images on hosts.
public enum BaseImages {
    /// The base volume reference for a local image on a host (where `up` puts it).
    public static func ref(for local: LocalImage, host: LabHost) -> BaseVolumeRef {
        let dir = Lab.imagePoolPath(host: host)
        func vol(_ f: LocalFile, _ kind: String) -> VolumeRef {
            let name = "\(kind)-\(f.sha256.prefix(16))"
            return VolumeRef(pool: Lab.imagePoolName, name: name, path: "\(dir)/\(name)", identity: f.sha256)
        }
        let diskName = Lab.baseVolumeName(sha256: local.disk.sha256, format: local.image.format)
        return BaseVolumeRef(
            disk: VolumeRef(
                pool: Lab.imagePoolName, name: diskName, path: "\(dir)/\(diskName)", identity: local.disk.sha256),
            format: local.image.format, kernel: local.kernel.map { vol($0, "kernel") },
            initrd: local.initrd.map { vol($0, "initrd") })
    }
}
