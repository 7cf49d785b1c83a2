import Crypto
import Curl
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The content-addressed cache of downloaded artifacts.
///
/// Layout under the root (`$XDG_CACHE_HOME/nestlab`, else `~/.cache/nestlab`):
///
///     artifacts/sha256/<hex>   the blobs, read-only, named by their SHA-256
///     index.json               for each blob: name, URL, size, fetch time, topologies using it;
///                              and for each URL, the digest it served last
///     partial/                 downloads in progress (resumable across runs)
///     locks/                   flock files: one per artifact being fetched, one for the index
///
/// A cache hit makes no network request: a pinned digest is looked up by digest, any
/// other request by the URL it was fetched from. Concurrent fetches of one artifact in a
/// process share one download, and a per-artifact flock makes a second process wait for
/// the first and then find the blob. A download that fails verification leaves nothing
/// behind.
public actor ArtifactCache {
    /// The cache directory.
    public nonisolated let root: URL
    private let downloader: Downloader
    private var inFlight: [String: Task<CachedArtifact, any Error>] = [:]

    /// - Parameters:
    ///   - root: the cache directory (default: ``defaultRoot(environment:)``).
    ///   - options: download settings (timeouts, retries, parallelism, proxy).
    ///   - progress: receives download progress, e.g. `ProgressRenderer().handler`.
    public init(root: URL? = nil, options: DownloadOptions = DownloadOptions(), progress: ProgressHandler? = nil) {
        self.root = root ?? ArtifactCache.defaultRoot()
        downloader = Downloader(options: options, progress: progress)
    }

    /// `$XDG_CACHE_HOME/nestlab` when XDG_CACHE_HOME is an absolute path (the XDG spec
    /// says to ignore relative ones), else `$HOME/.cache/nestlab`.
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("nestlab", isDirectory: true)
        }
        let home =
            environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/nestlab", isDirectory: true)
    }

    // MARK: paths

    /// Where the blob with this digest lives (whether or not it exists).
    public nonisolated func blobPath(sha256: String) -> URL {
        root.appendingPathComponent("artifacts/sha256/\(sha256.lowercased())")
    }

    nonisolated var indexPath: URL { root.appendingPathComponent("index.json") }
    private nonisolated var blobDirectory: URL { root.appendingPathComponent("artifacts/sha256", isDirectory: true) }
    private nonisolated var partialDirectory: URL { root.appendingPathComponent("partial", isDirectory: true) }
    private nonisolated var lockDirectory: URL { root.appendingPathComponent("locks", isDirectory: true) }
    private nonisolated var indexLockPath: String { lockDirectory.appendingPathComponent("index.lock").path }

    // MARK: fetching

    /// Returns the artifact from the cache, downloading and verifying it first if needed.
    ///
    /// - Parameters:
    ///   - topologyPath: a topology file to record as a user of the artifact.
    ///   - refresh: for a request without a pinned digest, download again even if the URL
    ///     was fetched before (to re-resolve a lock file); the bytes are still stored once.
    ///     A pinned digest is always looked up by digest.
    /// - Throws: ``ArtifactError``: `.digestMismatch` names the artifact and both digests.
    public func fetch(
        _ request: ArtifactRequest, for topologyPath: String? = nil,
        refresh: Bool = false
    ) async throws -> CachedArtifact {
        let request = try Self.validated(request)
        let refreshing = refresh && request.sha256 == nil
        if !refreshing, let hit = try cached(request) {
            if let topologyPath { try await addUse(topologyPath, digests: [hit.sha256]) }
            return hit
        }
        let key = Self.key(for: request)
        let task: Task<CachedArtifact, any Error>
        if let running = inFlight[key] {
            task = running
        } else {
            task = Task { try await self.download(request, key: key, refresh: refreshing) }
            inFlight[key] = task
        }
        defer { if inFlight[key] == task { inFlight[key] = nil } }
        var artifact = try await task.value
        artifact.name = request.name
        if let topologyPath { try await addUse(topologyPath, digests: [artifact.sha256]) }
        return artifact
    }

    /// Fetches several artifacts in parallel (bounded by the download options) and
    /// returns them in the order asked. The first failure cancels the rest and is thrown.
    public func fetchAll(
        _ requests: [ArtifactRequest], for topologyPath: String? = nil,
        refresh: Bool = false
    ) async throws -> [CachedArtifact] {
        try await withThrowingTaskGroup(of: (Int, CachedArtifact).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask { (index, try await self.fetch(request, for: topologyPath, refresh: refresh)) }
            }
            var results = [CachedArtifact?](repeating: nil, count: requests.count)
            for try await (index, artifact) in group { results[index] = artifact }
            return results.compactMap { $0 }
        }
    }

    /// The cached artifact for `request`, without any network access; nil if not cached.
    public nonisolated func cached(_ request: ArtifactRequest) throws -> CachedArtifact? {
        let request = try Self.validated(request)
        let index = try readIndex()
        let entry: CacheEntry?
        if let digest = request.sha256 {
            entry = index.artifacts[digest] ?? blobEntryWithoutIndex(digest, request: request)
        } else {
            entry = index.urls[request.url.absoluteString].flatMap { index.artifacts[$0] }
        }
        guard let entry else { return nil }
        let path = blobPath(sha256: entry.sha256)
        // A blob missing or cut short on disk is a miss; the download replaces it.
        guard let size = Self.fileSize(path.path), size == entry.size else { return nil }
        return CachedArtifact(
            name: request.name, url: request.url, sha256: entry.sha256, size: entry.size,
            path: path, fetchedAt: entry.fetchedAt, downloaded: false)
    }

    /// A blob present on disk whose index entry was lost: still a valid hit for its digest.
    private nonisolated func blobEntryWithoutIndex(_ digest: String, request: ArtifactRequest) -> CacheEntry? {
        let path = blobPath(sha256: digest).path
        guard let size = Self.fileSize(path),
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        else { return nil }
        return CacheEntry(
            sha256: digest, name: request.name, url: request.url.absoluteString, size: size,
            fetchedAt: attributes[.modificationDate] as? Date ?? Date())
    }

    /// Downloads under the per-artifact lock; runs once per key at a time in this process.
    private nonisolated func download(
        _ request: ArtifactRequest, key: String,
        refresh: Bool
    ) async throws -> CachedArtifact {
        try createDirectories()
        let lockName = Self.hex(SHA256.hash(data: Data(key.utf8)))
        return try await FileLock.withLock(lockDirectory.appendingPathComponent("\(lockName).lock").path) {
            // Another process may have fetched it while this one waited for the lock.
            if !refresh, let hit = try cached(request) { return hit }

            let staging = partialDirectory.appendingPathComponent(lockName)
            let result: DownloadResult
            do {
                result = try await downloader.download(
                    from: request.url, to: staging, checksum: Self.checksum(for: request),
                    label: request.name)
            } catch let error as CurlError {
                if case .checksumMismatch(let url, let expected, let actual) = error {
                    throw ArtifactError.digestMismatch(name: request.name, url: url, expected: expected, actual: actual)
                }
                throw ArtifactError.download(name: request.name, error)
            }

            let blob = try keep(staging, as: result)
            let fetchedAt = Date()
            try await updateIndex { index in
                let url = request.url.absoluteString
                index.urls[url] = result.sha256
                if var entry = index.artifacts[result.sha256] {
                    if !entry.isFrom(url) { entry.otherURLs.append(url) }
                    entry.size = result.size
                    index.artifacts[result.sha256] = entry
                } else {
                    index.artifacts[result.sha256] = CacheEntry(
                        sha256: result.sha256, name: request.name,
                        url: request.url.absoluteString, size: result.size,
                        fetchedAt: fetchedAt)
                }
            }
            return CachedArtifact(
                name: request.name, url: request.url, sha256: result.sha256, size: result.size,
                path: blob, fetchedAt: fetchedAt, downloaded: true)
        }
    }

    /// How a download of `request` is checked: its digest, else its checksum file, else not at all.
    private static func checksum(for request: ArtifactRequest) -> Checksum {
        if let digest = request.sha256 {
            return .sha256(digest)
        } else if let checksumsURL = request.checksumsURL {
            return .checksumFile(checksumsURL)
        } else {
            return .none
        }
    }

    /// Moves a finished download into its blob (or drops it when that blob is already there).
    private nonisolated func keep(_ staging: URL, as result: DownloadResult) throws -> URL {
        let blob = blobPath(sha256: result.sha256)
        if Self.fileSize(blob.path) == result.size {
            unlink(staging.path)  // same bytes already cached under another URL
        } else {
            // Read-only, so that nothing that opens a cached image can change it.
            _ = chmod(staging.path, 0o444)
            guard rename(staging.path, blob.path) == 0 else {
                let code = errno
                unlink(staging.path)
                throw ArtifactError.file(operation: "move download into", path: blob.path, errno: code)
            }
        }
        return blob
    }

    // MARK: index queries and maintenance

    /// Every cached blob, by name then digest.
    public nonisolated func list() throws -> [CacheEntry] {
        try readIndex().artifacts.values.sorted { ($0.name, $0.sha256) < ($1.name, $1.sha256) }
    }

    /// Records that `topologyPath` uses exactly these blobs: it is added to their users
    /// and removed from every other blob's users (so a version bump frees the old blob
    /// for `prune`).
    public func recordUse(topologyPath: String, digests: [String]) async throws {
        let topology = Self.absolute(topologyPath)
        let wanted = Set(digests.map { $0.lowercased() })
        try await updateIndex { index in
            for (digest, var entry) in index.artifacts {
                let uses = wanted.contains(digest)
                let listed = entry.usedBy.contains(topology)
                if uses && !listed {
                    entry.usedBy = (entry.usedBy + [topology]).sorted()
                } else if !uses && listed {
                    entry.usedBy.removeAll { $0 == topology }
                } else {
                    continue
                }
                index.artifacts[digest] = entry
            }
        }
    }

    /// Removes blobs: those no existing topology uses, or everything.
    public func prune(_ scope: PruneScope) async throws -> PruneReport {
        var (removed, freed) = try await updateIndex { index -> ([CacheEntry], Int64) in
            var removed: [CacheEntry] = []
            var freed: Int64 = 0
            for (digest, var entry) in index.artifacts {
                if scope == .unreferenced {
                    entry.usedBy.removeAll { !FileManager.default.fileExists(atPath: $0) }
                    index.artifacts[digest] = entry
                    guard entry.usedBy.isEmpty else { continue }
                }
                let path = blobPath(sha256: digest).path
                freed += Self.fileSize(path) ?? 0
                if unlink(path) != 0 && errno != ENOENT {
                    throw ArtifactError.file(operation: "remove", path: path, errno: errno)
                }
                index.remove(digest)
                removed.append(entry)
            }
            return (removed, freed)
        }
        if scope == .all {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: partialDirectory.path)) ?? []
            for file in files {
                let path = partialDirectory.appendingPathComponent(file).path
                freed += Self.fileSize(path) ?? 0
                unlink(path)
            }
        }
        return PruneReport(removed: removed.sorted { ($0.name, $0.sha256) < ($1.name, $1.sha256) }, bytesFreed: freed)
    }

    /// Hashes a cached blob again; a blob that no longer matches its name is removed.
    public func verify(sha256 digest: String) async throws {
        let path = blobPath(sha256: digest)
        let handle = try FileHandle(forReadingFrom: path)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        let actual = Self.hex(hasher.finalize())
        guard actual == digest.lowercased() else {
            unlink(path.path)
            try await updateIndex { $0.remove(digest.lowercased()) }
            throw ArtifactError.corruptBlob(sha256: digest, actual: actual)
        }
    }

    private func addUse(_ topologyPath: String, digests: [String]) async throws {
        let topology = Self.absolute(topologyPath)
        try await updateIndex { index in
            for digest in digests {
                guard var entry = index.artifacts[digest], !entry.usedBy.contains(topology) else { continue }
                entry.usedBy = (entry.usedBy + [topology]).sorted()
                index.artifacts[digest] = entry
            }
        }
    }

    // MARK: index file

    /// The index file's contents.
    struct IndexFile: Codable, Sendable {
        var version = 1
        /// Blobs by digest.
        var artifacts: [String: CacheEntry] = [:]
        /// For each URL, the digest of what it served most recently; this is how a request
        /// without a pinned digest is found again.
        var urls: [String: String] = [:]

        mutating func remove(_ digest: String) {
            artifacts[digest] = nil
            urls = urls.filter { $0.value != digest }
        }
    }

    private nonisolated func readIndex() throws -> IndexFile {
        guard let data = FileManager.default.contents(atPath: indexPath.path) else { return IndexFile() }
        do {
            return try Self.decoder.decode(IndexFile.self, from: data)
        } catch {
            throw ArtifactError.unreadableIndex(path: indexPath.path, reason: String(describing: error))
        }
    }

    /// Read-modify-write of the index under its lock, replaced atomically, so that
    /// processes sharing the cache never lose each other's updates or see half a file.
    @discardableResult
    private nonisolated func updateIndex<T: Sendable>(
        _ change: @Sendable (inout IndexFile) throws -> T
    ) async throws -> T {
        try createDirectories()
        return try await FileLock.withLock(indexLockPath) {
            var index = try readIndex()
            let result = try change(&index)
            let data = try Self.encoder.encode(index)
            let temporary = root.appendingPathComponent("index.json.\(getpid()).tmp")
            do {
                try data.write(to: temporary)
            } catch {
                throw ArtifactError.file(operation: "write", path: temporary.path, errno: errno)
            }
            guard rename(temporary.path, indexPath.path) == 0 else {
                throw ArtifactError.file(operation: "replace", path: indexPath.path, errno: errno)
            }
            return result
        }
    }

    private nonisolated func createDirectories() throws {
        for directory in [blobDirectory, partialDirectory, lockDirectory] {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw ArtifactError.file(operation: "create directory", path: directory.path, errno: EACCES)
            }
        }
    }

    // MARK: helpers

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// Checks and normalizes a request (lower-case digest, http(s) URL).
    static func validated(_ request: ArtifactRequest) throws -> ArtifactRequest {
        var request = request
        guard !request.name.isEmpty else {
            throw ArtifactError.invalidRequest(name: request.name, reason: "the name is empty")
        }
        guard let scheme = request.url.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw ArtifactError.invalidRequest(
                name: request.name, reason: "url \(request.url.absoluteString) is not http or https")
        }
        if let digest = request.sha256 {
            let lowered = digest.lowercased()
            guard lowered.count == 64, lowered.allSatisfy({ $0.isASCIIHexDigit }) else {
                throw ArtifactError.invalidRequest(
                    name: request.name, reason: "sha256 '\(digest)' is not 64 hexadecimal characters")
            }
            request.sha256 = lowered
        }
        return request
    }

    /// One in-flight download and one lock per pinned digest, else per URL.
    static func key(for request: ArtifactRequest) -> String {
        request.sha256.map { "sha256:\($0)" } ?? "url:\(request.url.absoluteString)"
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
