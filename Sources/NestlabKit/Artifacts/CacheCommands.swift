import Curl
import Foundation
import NestlabCore

public enum CacheCommands {
    static func cache(progress: Bool) -> ArtifactCache {
        ArtifactCache(progress: progress ? ProgressRenderer(style: .automatic).handler : nil)
    }

    public static func fetch(file: String, updateLock: Bool, format: OutputFormat) async throws {
        let (lock, fetched) = try await LabArtifacts.fetch(
            file: file, updateLock: updateLock, cache: cache(progress: format == .text))
        if format == .json {
            struct J: Codable {
                var lock: String
                var artifacts: [LockFile.Entry]
                var downloaded: [String]
            }
            Console.out(
                try JSONOutput.string(
                    J(
                        lock: LockFile.path(forTopology: file), artifacts: lock.artifacts,
                        downloaded: fetched.filter(\.downloaded).map(\.name))))
            return
        }
        for a in fetched {
            Console.out(
                "\(a.downloaded ? "fetched" : "cached ") \(a.name)  \(a.sha256.prefix(16))…  \(Format.bytes(Int64(a.size)))"
            )
        }
        Console.out("lock: \(LockFile.path(forTopology: file)) (\(lock.artifacts.count) artifacts pinned)")
    }

    public static func list(format: OutputFormat) throws {
        let entries = try cache(progress: false).list()
        if format == .json {
            Console.out(try JSONOutput.string(entries))
            return
        }
        if entries.isEmpty {
            Console.out("the cache is empty (\(ArtifactCache.defaultRoot().path))")
            return
        }
        var total: Int64 = 0
        for e in entries {
            total += Int64(e.size)
            let users = e.usedBy.isEmpty ? "unused" : e.usedBy.joined(separator: ", ")
            Console.out(
                "\(e.sha256.prefix(16))…  \(Format.bytes(Int64(e.size)).padding(toLength: 9, withPad: " ", startingAt: 0))  \(e.name)  used by: \(users)"
            )
        }
        Console.out("\(entries.count) artifacts, \(Format.bytes(total)) in \(ArtifactCache.defaultRoot().path)")
    }

    public static func prune(all: Bool, format: OutputFormat) async throws {
        let r = try await cache(progress: false).prune(all ? .all : .unreferenced)
        if format == .json {
            Console.out(try JSONOutput.string(r))
            return
        }
        Console.out("removed \(r.removed.count) artifact(s), freed \(Format.bytes(Int64(r.bytesFreed)))")
    }
}
