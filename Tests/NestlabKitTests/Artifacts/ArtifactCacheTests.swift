import Crypto
import Curl
import Foundation
import Spawn
import Testing

@testable import NestlabKit

/// A temporary cache root, served directory and topology files for one test.
private struct CacheFixture {
    let directory: URL
    let server: ArtifactTestServer
    let cacheRoot: URL

    static func make(_ name: String = #function) async throws -> CacheFixture {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nestlab-cachetests-\(name.filter(\.isLetter))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = try await ArtifactTestServer.start(in: directory)
        return CacheFixture(directory: directory, server: server, cacheRoot: directory.appendingPathComponent("cache"))
    }

    func cache() -> ArtifactCache {
        var options = DownloadOptions()
        options.maxAttempts = 2
        options.initialBackoff = .milliseconds(20)
        options.proxy = .none
        return ArtifactCache(root: cacheRoot, options: options)
    }

    /// Writes a topology file (its existence is what keeps blobs from being pruned).
    func topology(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data("name: \(name)\n".utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func blobNames() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: cacheRoot.appendingPathComponent("artifacts/sha256").path))?
            .sorted() ?? []
    }

    func cleanUp() {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

private func bytes(_ count: Int, _ seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ ($0 >> 8)) }
}

private func hex(_ data: [UInt8]) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

@Suite("Artifact cache against a local HTTP server")
struct ArtifactCacheTests {
    @Test("a fetch stores a read-only blob by digest and indexes it")
    func fetchStoresBlob() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let image = bytes(300_000, 1)
        try fixture.server.serve("noble.img", image)
        let topology = try fixture.topology("lab.yaml")
        let url = fixture.server.url("/files/noble.img")

        let artifact = try await fixture.cache().fetch(
            ArtifactRequest(name: "ubuntu-24.04", url: url, sha256: hex(image)), for: topology)

        #expect(artifact.downloaded)
        #expect(artifact.path == fixture.cacheRoot.appendingPathComponent("artifacts/sha256/\(hex(image))"))
        #expect([UInt8](try Data(contentsOf: artifact.path)) == image)
        let mode = try FileManager.default.attributesOfItem(atPath: artifact.path.path)[.posixPermissions] as? Int
        #expect(mode == 0o444)
        let entries = try fixture.cache().list()
        #expect(entries.count == 1)
        #expect(entries.first?.sha256 == hex(image))
        #expect(entries.first?.name == "ubuntu-24.04")
        #expect(entries.first?.url == url.absoluteString)
        #expect(entries.first?.size == 300_000)
        #expect(entries.first?.usedBy == [topology])
        #expect(try fixture.server.requestPaths() == ["/files/noble.img"])
    }

    @Test("a cache hit makes zero requests, with a pinned digest or a checksum file")
    func cacheHitMakesNoRequests() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let image = bytes(200_000, 2)
        let binary = bytes(50_000, 3)
        try fixture.server.serve("noble.img", image)
        try fixture.server.serve("kubeadm", binary)
        let pinned = ArtifactRequest(name: "image", url: fixture.server.url("/files/noble.img"), sha256: hex(image))
        let summed = ArtifactRequest(
            name: "kubeadm", url: fixture.server.url("/files/kubeadm"),
            checksumsURL: fixture.server.url("/SHA256SUMS"))

        _ = try await fixture.cache().fetchAll([pinned, summed])
        let before = try fixture.server.requestPaths()
        // A new cache object on the same root stands for the next run of nestlab.
        let again = try await fixture.cache().fetchAll([pinned, summed])

        #expect(before.sorted() == ["/SHA256SUMS", "/files/kubeadm", "/files/noble.img"])
        #expect(try fixture.server.requestPaths() == before)
        #expect(again.map(\.downloaded) == [false, false])
        #expect(again.map(\.sha256) == [hex(image), hex(binary)])
        #expect(try fixture.cache().cached(pinned)?.path == fixture.cache().blobPath(sha256: hex(image)))
    }

    @Test("a digest mismatch names the artifact and both digests, and caches nothing")
    func badChecksumCachesNothing() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let image = bytes(120_000, 4)
        try fixture.server.serve("noble.img", image)
        let url = fixture.server.url("/files/noble.img")
        let pinned = String(repeating: "0", count: 64)

        let error = await #expect(throws: ArtifactError.self) {
            try await fixture.cache().fetch(ArtifactRequest(name: "ubuntu-24.04", url: url, sha256: pinned))
        }

        #expect(
            error
                == .digestMismatch(name: "ubuntu-24.04", url: url.absoluteString, expected: pinned, actual: hex(image)))
        #expect(
            error?.description.hasPrefix(
                "artifact 'ubuntu-24.04' from \(url.absoluteString) does not match its pinned digest: expected sha256 \(pinned), downloaded bytes have sha256 \(hex(image))"
            ) == true)
        #expect(fixture.blobNames().isEmpty)
        #expect(try fixture.cache().list().isEmpty)
        let partials = try FileManager.default.contentsOfDirectory(
            atPath: fixture.cacheRoot.appendingPathComponent("partial").path)
        #expect(partials.isEmpty)
    }

    @Test("two concurrent fetches of one artifact download it once")
    func concurrentFetchesDownloadOnce() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let image = bytes(400_000, 5)
        try fixture.server.serve("noble.img", image)
        // The server waits 700 ms before answering, so the two fetches surely overlap.
        let request = ArtifactRequest(name: "image", url: fixture.server.url("/slow/700/noble.img"), sha256: hex(image))
        let cache = fixture.cache()

        async let first = cache.fetch(request)
        async let second = cache.fetch(request)
        let results = try await [first, second]

        #expect(try fixture.server.requestPaths() == ["/slow/700/noble.img"])
        #expect(results.map(\.sha256) == [hex(image), hex(image)])
        #expect(fixture.blobNames() == [hex(image)])
    }

    @Test("another process holding the artifact's lock is waited for, and its result used")
    func crossProcessLock() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let image = bytes(90_000, 6)
        try fixture.server.serve("noble.img", image)
        let source = fixture.directory.appendingPathComponent("other-process-download")
        try Data(image).write(to: source)
        let request = ArtifactRequest(name: "image", url: fixture.server.url("/files/noble.img"), sha256: hex(image))
        let cache = fixture.cache()
        let lockName = hex(Array("sha256:\(hex(image))".utf8))
        let locks = fixture.cacheRoot.appendingPathComponent("locks")
        try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: fixture.cacheRoot.appendingPathComponent("artifacts/sha256"), withIntermediateDirectories: true)
        let marker = fixture.directory.appendingPathComponent("locked")
        let release = fixture.directory.appendingPathComponent("release")

        // util-linux flock(1) plays a second nestlab: it takes the lock, "downloads" until the
        // test lets it go on (30 s at most), puts the blob in place and lets go of the lock.
        let other = try SpawnedProcess.start([
            "/usr/bin/flock", locks.appendingPathComponent("\(lockName).lock").path, "sh", "-c",
            "touch '\(marker.path)'; i=0; while [ ! -e '\(release.path)' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; "
                + "cp '\(source.path)' '\(cache.blobPath(sha256: hex(image)).path)'",
        ])
        defer {
            _ = FileManager.default.createFile(atPath: release.path, contents: nil)
            other.wait()
        }
        while !FileManager.default.fileExists(atPath: marker.path) { try await Task.sleep(for: .milliseconds(20)) }

        // The fetch starts while the other process holds the lock, and must wait for it: had it
        // not, it would have downloaded the artifact (one request) within the second given it.
        let finished = Flag()
        let fetch = Task {
            defer { finished.set() }
            return try await cache.fetch(request)
        }
        try await Task.sleep(for: .seconds(1))
        #expect(!finished.isSet, "the fetch finished while another process held the artifact's lock")
        #expect(try fixture.server.requestPaths().isEmpty)
        _ = FileManager.default.createFile(atPath: release.path, contents: nil)
        let artifact = try await fetch.value

        #expect(!artifact.downloaded)
        #expect(try fixture.server.requestPaths().isEmpty)
        #expect([UInt8](try Data(contentsOf: artifact.path)) == image)
    }

    @Test("prune removes what no existing topology uses; recordUse moves references")
    func pruneAndRecordUse() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let a = bytes(10_000, 7)
        let b = bytes(20_000, 8)
        let c = bytes(30_000, 9)
        try fixture.server.serve("a", a)
        try fixture.server.serve("b", b)
        try fixture.server.serve("c", c)
        let lab1 = try fixture.topology("lab1.yaml")
        let lab2 = try fixture.topology("lab2.yaml")
        let cache = fixture.cache()
        func request(_ name: String, _ data: [UInt8]) -> ArtifactRequest {
            ArtifactRequest(name: name, url: fixture.server.url("/files/\(name)"), sha256: hex(data))
        }
        _ = try await cache.fetch(request("a", a), for: lab1)
        _ = try await cache.fetch(request("b", b), for: lab2)
        _ = try await cache.fetch(request("c", c))

        let first = try await cache.prune(.unreferenced)
        #expect(first.removed.map(\.name) == ["c"])
        #expect(first.bytesFreed == 30_000)
        #expect(fixture.blobNames() == [hex(a), hex(b)].sorted())

        // lab1 now uses b instead of a (a version bump): a becomes unreferenced.
        try await cache.recordUse(topologyPath: lab1, digests: [hex(b)])
        #expect(try cache.list().map(\.usedBy) == [[], [lab1, lab2].sorted()])
        let second = try await cache.prune(.unreferenced)
        #expect(second.removed.map(\.name) == ["a"])

        // A deleted topology file no longer keeps anything.
        try FileManager.default.removeItem(atPath: lab1)
        try FileManager.default.removeItem(atPath: lab2)
        let third = try await cache.prune(.unreferenced)
        #expect(third.removed.map(\.name) == ["b"])
        #expect(fixture.blobNames().isEmpty)
        #expect(try cache.list().isEmpty)
    }

    @Test("prune all empties the cache, and the next fetch downloads again")
    func pruneAll() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let a = bytes(10_000, 10)
        try fixture.server.serve("a", a)
        let request = ArtifactRequest(name: "a", url: fixture.server.url("/files/a"), sha256: hex(a))
        let cache = fixture.cache()
        _ = try await cache.fetch(request, for: try fixture.topology("lab.yaml"))

        let report = try await cache.prune(.all)
        let refetched = try await cache.fetch(request)

        #expect(report.removed.map(\.name) == ["a"])
        #expect(refetched.downloaded)
        #expect(try fixture.server.requestPaths() == ["/files/a", "/files/a"])
    }

    @Test("the same bytes from a second URL share one blob, and both URLs then hit")
    func sameBytesTwoURLs() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let a = bytes(10_000, 11)
        try fixture.server.serve("a", a)
        try fixture.server.serve("mirror-a", a)
        let cache = fixture.cache()
        _ = try await cache.fetch(ArtifactRequest(name: "a", url: fixture.server.url("/files/a")))
        _ = try await cache.fetch(ArtifactRequest(name: "a", url: fixture.server.url("/files/mirror-a")))
        let hit = try cache.cached(ArtifactRequest(name: "a", url: fixture.server.url("/files/mirror-a")))

        #expect(fixture.blobNames() == [hex(a)])
        #expect(try cache.list().first?.otherURLs == [fixture.server.url("/files/mirror-a").absoluteString])
        #expect(hit?.sha256 == hex(a))
        #expect(try fixture.server.requestPaths() == ["/files/a", "/files/mirror-a"])
    }

    @Test("an unpinned URL keeps its cached bytes until a refresh fetches the new ones")
    func refreshUnpinned() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let old = bytes(10_000, 14)
        let new = bytes(12_000, 15)
        try fixture.server.serve("current.img", old)
        let request = ArtifactRequest(name: "current", url: fixture.server.url("/files/current.img"))
        let cache = fixture.cache()
        _ = try await cache.fetch(request)
        try fixture.server.serve("current.img", new)

        let stale = try await cache.fetch(request)
        let refreshed = try await cache.fetch(request, refresh: true)
        let after = try await cache.fetch(request)

        #expect(stale.sha256 == hex(old))
        #expect(!stale.downloaded)
        #expect(refreshed.sha256 == hex(new))
        #expect(refreshed.downloaded)
        #expect(after.sha256 == hex(new))
        #expect(fixture.blobNames() == [hex(old), hex(new)].sorted())
        #expect(try fixture.server.requestPaths() == ["/files/current.img", "/files/current.img"])
    }

    @Test("a blob deleted from disk is a miss and is downloaded again")
    func missingBlobIsRefetched() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let a = bytes(10_000, 12)
        try fixture.server.serve("a", a)
        let request = ArtifactRequest(name: "a", url: fixture.server.url("/files/a"), sha256: hex(a))
        let cache = fixture.cache()
        let first = try await cache.fetch(request)
        try FileManager.default.removeItem(at: first.path)

        let second = try await cache.fetch(request)

        #expect(second.downloaded)
        #expect(try fixture.server.requestPaths() == ["/files/a", "/files/a"])
    }

    @Test("verify re-hashes a blob and removes it when it changed")
    func verifyDetectsCorruption() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let a = bytes(10_000, 13)
        try fixture.server.serve("a", a)
        let cache = fixture.cache()
        let artifact = try await cache.fetch(
            ArtifactRequest(name: "a", url: fixture.server.url("/files/a"), sha256: hex(a)))
        try await cache.verify(sha256: artifact.sha256)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: artifact.path.path)
        try Data("tampered".utf8).write(to: artifact.path)
        await #expect(throws: ArtifactError.corruptBlob(sha256: hex(a), actual: hex(Array("tampered".utf8)))) {
            try await cache.verify(sha256: artifact.sha256)
        }
        #expect(fixture.blobNames().isEmpty)
        #expect(try cache.list().isEmpty)
    }

    @Test("requests are checked before any network access")
    func invalidRequests() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let cache = fixture.cache()
        await #expect(
            throws: ArtifactError.invalidRequest(name: "x", reason: "sha256 'abc' is not 64 hexadecimal characters")
        ) {
            try await cache.fetch(ArtifactRequest(name: "x", url: fixture.server.url("/files/x"), sha256: "abc"))
        }
        await #expect(
            throws: ArtifactError.invalidRequest(name: "x", reason: "url file:///etc/passwd is not http or https")
        ) {
            try await cache.fetch(ArtifactRequest(name: "x", url: URL(string: "file:///etc/passwd")!))
        }
        #expect(try fixture.server.requestPaths().isEmpty)
    }

    @Test("a failed download names the artifact and keeps curl's error")
    func downloadErrorNamesArtifact() async throws {
        let fixture = try await CacheFixture.make()
        defer { fixture.cleanUp() }
        let url = fixture.server.url("/status/404")
        let error = await #expect(throws: ArtifactError.self) {
            try await fixture.cache().fetch(ArtifactRequest(name: "kubeadm", url: url))
        }
        #expect(error?.description == "cannot fetch artifact 'kubeadm': http 404 for \(url.absoluteString) (not found)")
    }

    @Test("the default root follows XDG_CACHE_HOME, ignoring relative values")
    func defaultRoot() {
        #expect(
            ArtifactCache.defaultRoot(environment: ["XDG_CACHE_HOME": "/var/cache/me", "HOME": "/home/u"]).path
                == "/var/cache/me/nestlab")
        #expect(
            ArtifactCache.defaultRoot(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"]).path
                == "/home/u/.cache/nestlab")
        #expect(ArtifactCache.defaultRoot(environment: ["HOME": "/home/u"]).path == "/home/u/.cache/nestlab")
    }
}

/// Set once, read from any task.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
