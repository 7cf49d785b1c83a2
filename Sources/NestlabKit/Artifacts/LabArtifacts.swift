import Curl
import Foundation
import NestlabCore

/// What a topology needs from the network (URL images and cluster artifacts), and
/// the lock file that pins them.
public enum LabArtifacts {
    public struct Wanted: Sendable {
        public var request: ArtifactRequest
        public var isImage: Bool
    }

    /// Everything the topology downloads. Digests come from the topology (`sha256:`), then
    /// the lock file (unless `updateLock`), then upstream checksum files; what has none is
    /// pinned on first download and recorded in the lock.
    public static func wanted(_ t: Topology, lock: LockFile?, updateLock: Bool, imagesOnly: Bool = false) throws
        -> [Wanted]
    {
        func locked(_ name: String, _ url: String) -> String? {
            guard !updateLock, let e = lock?.entry(name), e.url == url else { return nil }
            return e.sha256
        }
        var out: [Wanted] = []
        let used = Set(t.machines.map(\.image))
        for img in t.images where used.contains(img.name) {
            guard case .url(let u, let sha, let sums) = img.source, let url = URL(string: u) else { continue }
            let name = ArtifactCatalog.imageName(img.name)
            out.append(
                Wanted(
                    request: ArtifactRequest(
                        name: name, url: url, sha256: sha ?? locked(name, u),
                        checksumsURL: sums.flatMap(URL.init(string:))), isImage: true))
        }
        if imagesOnly { return out }
        var seen = Set<String>()
        for c in t.clusters {
            for r in ArtifactCatalog.refs(for: c) where seen.insert(r.name).inserted {
                guard let url = URL(string: r.url) else { continue }
                let pinned = locked(r.name, r.url)
                out.append(
                    Wanted(
                        request: ArtifactRequest(
                            name: r.name, url: url, sha256: pinned,
                            checksumsURL: pinned == nil && r.upstreamChecksum ? URL(string: r.url + ".sha256") : nil),
                        isImage: false))
            }
        }
        return out
    }

    /// Downloads (or finds in the cache) what the topology needs and writes its lock file.
    @discardableResult
    public static func fetch(
        file: String, topology: Topology? = nil, updateLock: Bool, imagesOnly: Bool = false,
        cache: ArtifactCache
    ) async throws -> (LockFile, [CachedArtifact]) {
        let t = try topology ?? TopologyParser().load(path: file).0
        let lock = try LockFile.load(forTopology: file)
        let wanted = try wanted(t, lock: lock, updateLock: updateLock, imagesOnly: imagesOnly)
        let topoPath = URL(fileURLWithPath: file).standardizedFileURL.path
        let fetched = try await cache.fetchAll(wanted.map(\.request), for: topoPath, refresh: updateLock)
        if !imagesOnly { try await cache.recordUse(topologyPath: topoPath, digests: fetched.map(\.sha256)) }
        var entries = (updateLock ? [] : lock?.artifacts ?? []).filter { e in !fetched.contains { $0.name == e.name } }
        for a in fetched {
            entries.append(
                LockFile.Entry(name: a.name, url: a.url.absoluteString, sha256: a.sha256, size: UInt64(a.size)))
        }
        let newLock = LockFile(artifacts: entries)
        if newLock != lock {
            try newLock.encoded().write(to: URL(fileURLWithPath: LockFile.path(forTopology: file)), options: .atomic)
        }
        return (newLock, fetched)
    }

    /// The cached copy of a URL image, without any network access; nil when it is not there.
    public static func cachedImage(_ img: Image, lock: LockFile?, cache: ArtifactCache) -> CachedArtifact? {
        guard case .url(let u, let sha, let sums) = img.source, let url = URL(string: u) else { return nil }
        let name = ArtifactCatalog.imageName(img.name)
        let pinned = sha ?? lock?.entry(name).flatMap { $0.url == u ? $0.sha256 : nil }
        return try? cache.cached(
            ArtifactRequest(name: name, url: url, sha256: pinned, checksumsURL: sums.flatMap(URL.init(string:))))
    }
}
