import Crypto
import Curl
import Foundation
import Testing

@testable import NestlabCore
@testable import NestlabKit

/// `cache fetch` and the lock file, and the lab-network mirror, against real HTTP on 127.0.0.1.
@Suite struct LockAndMirrorTests {
    static func hex(_ b: [UInt8]) -> String { SHA256.hash(data: b).map { String(format: "%02x", $0) }.joined() }

    struct Lab {
        var dir: URL
        var server: ArtifactTestServer
        var cache: ArtifactCache
        var topology: String
    }

    /// A topology whose one image is a URL on the local server, verified by a checksum file.
    static func lab(image: [UInt8]) async throws -> Lab {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-lock-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("www"), withIntermediateDirectories: true)
        let server = try await ArtifactTestServer.start(in: dir.appendingPathComponent("www"))
        try server.serve("disk.img", image)
        try server.serve("SHA256SUMS", Array("\(hex(image))  disk.img\n".utf8))
        let topo = dir.appendingPathComponent("lab.yaml")
        try """
        name: locktest
        images:
          disk: {url: "\(server.url("/files/disk.img").absoluteString)", checksums: "\(server.url("/files/SHA256SUMS").absoluteString)", format: raw}
        networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
        machines: [{name: a}]
        """.write(to: topo, atomically: true, encoding: .utf8)
        return Lab(
            dir: dir, server: server, cache: ArtifactCache(root: dir.appendingPathComponent("cache")),
            topology: topo.path)
    }

    @Test func fetchPinsTheImageAndASecondFetchDownloadsNothing() async throws {
        let image = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let l = try await Self.lab(image: image)
        defer {
            l.server.stop()
            try? FileManager.default.removeItem(at: l.dir)
        }
        let (lock, fetched) = try await LabArtifacts.fetch(file: l.topology, updateLock: false, cache: l.cache)
        #expect(fetched.map(\.name) == ["image/disk"] && fetched[0].downloaded)
        #expect(lock.entry("image/disk")?.sha256 == Self.hex(image))
        let onDisk = try LockFile.load(forTopology: l.topology)
        #expect(onDisk == lock, "the lock file next to the topology holds what was fetched")
        #expect(FileManager.default.fileExists(atPath: l.dir.appendingPathComponent("lab.lock").path))

        let before = try l.server.requestPaths().count
        let (_, again) = try await LabArtifacts.fetch(file: l.topology, updateLock: false, cache: l.cache)
        #expect(again.allSatisfy { !$0.downloaded })
        #expect(try l.server.requestPaths().count == before, "a locked, cached artifact must not touch the network")
    }

    @Test func aLockedDigestThatNoLongerMatchesIsAnErrorNamingBoth() async throws {
        let image = [UInt8](repeating: 42, count: 10_000)
        let l = try await Self.lab(image: image)
        defer {
            l.server.stop()
            try? FileManager.default.removeItem(at: l.dir)
        }
        let wrong = String(repeating: "ab", count: 32)
        let lock = LockFile(artifacts: [
            LockFile.Entry(
                name: "image/disk", url: l.server.url("/files/disk.img").absoluteString, sha256: wrong, size: nil)
        ])
        try lock.encoded().write(to: URL(fileURLWithPath: LockFile.path(forTopology: l.topology)))
        do {
            _ = try await LabArtifacts.fetch(file: l.topology, updateLock: false, cache: l.cache)
            Issue.record("a digest mismatch must fail")
        } catch {
            let text = "\(error)"
            #expect(text.contains("image/disk") && text.contains(wrong) && text.contains(Self.hex(image)), "\(text)")
        }
        #expect(try l.cache.list().isEmpty, "nothing enters the cache on a mismatch")
        // --update-lock takes upstream's bytes and rewrites the pin.
        let (updated, _) = try await LabArtifacts.fetch(file: l.topology, updateLock: true, cache: l.cache)
        #expect(updated.entry("image/disk")?.sha256 == Self.hex(image))
    }

    @Test func clusterArtifactsAreListedWithUpstreamChecksumsWhereTheyExist() throws {
        let yaml = """
            name: k
            images: {deb: {file: /x.qcow2}}
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            machines: [{name: cp, profile: paper-mitigated, memory: 4GiB}]
            clusters: [{name: c, controlPlane: [cp], kubernetes: "1.33", runtimes: [runc, kata, kubevirt]}]
            """
        let t = try TopologyParser(environment: [:]).load(data: Data(yaml.utf8), file: "k.yaml").0
        let w = try LabArtifacts.wanted(t, lock: nil, updateLock: false)
        let byName = Dictionary(uniqueKeysWithValues: w.map { ($0.request.name, $0.request) })
        #expect(
            byName["kubernetes/kubeadm@1.33.4"]?.url.absoluteString
                == "https://dl.k8s.io/release/v1.33.4/bin/linux/amd64/kubeadm")
        #expect(
            byName["kubernetes/kubeadm@1.33.4"]?.checksumsURL?.absoluteString
                == "https://dl.k8s.io/release/v1.33.4/bin/linux/amd64/kubeadm.sha256")
        #expect(byName["cri-tools/crictl@v1.33.0"] != nil)
        #expect(byName["kata/kata-static@3.20.0"]?.checksumsURL == nil, "pinned by its first download")
        #expect(byName["kubevirt/kubevirt-operator.yaml@v1.6.0"] != nil)
        #expect(byName["flannel/kube-flannel.yml@v0.26.7"] != nil)
    }

    @Test func theMirrorServesVerifiedBlobsAndNothingElse() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nestlab-mirror-\(UUID().uuidString.prefix(8))")
        let blobs = dir.appendingPathComponent("artifacts/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let sha = Self.hex(bytes)
        try Data(bytes).write(to: blobs.appendingPathComponent(sha))
        try Data("secret".utf8).write(to: dir.appendingPathComponent("index.json"))

        let mirror = try ArtifactMirror(cacheRoot: dir, address: "127.0.0.1", port: 0)
        defer { mirror.stop() }
        // What a node does: fetch MIRROR/<sha256>/<name> and verify the digest.
        let artifact = Artifact(url: "https://dl.k8s.io/release/v1.33.4/bin/linux/amd64/kubeadm", sha256: sha)
        let target = dir.appendingPathComponent("kubeadm")
        let result = try await Downloader().download(
            from: URL(string: artifact.resolvedURL(mirror: mirror.baseURL))!, to: target, checksum: .sha256(sha))
        #expect(result.sha256 == sha && result.size == 200_000)
        for bad in [
            "/\(String(repeating: "0", count: 64))/kubeadm", "/../index.json", "/index.json",
            "/\(sha)/../../index.json",
        ] {
            do {
                var once = DownloadOptions()
                once.maxAttempts = 1
                _ = try await Downloader(options: once).download(
                    from: URL(string: mirror.baseURL + bad)!, to: dir.appendingPathComponent("x"), checksum: .none)
                Issue.record("\(bad) must not be served")
            } catch {
                #expect("\(error)".contains("404"), "\(bad): \(error)")
            }
        }
        #expect(mirror.requests.first == "/\(sha)/kubeadm")
    }
}
