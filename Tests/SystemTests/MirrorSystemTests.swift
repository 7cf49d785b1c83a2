import Crypto
import Foundation
import NestlabKit
import Testing

/// Issue 22: the lab-network artifact mirror serves a real guest. The mirror nestlab runs
/// during `up` (ArtifactMirror, bound to the lab network's gateway) serves a blob of a cache;
/// a TCG guest of the CI lab downloads it with curl over the lab network, and the sha256 is
/// checked in the guest. A path outside the cache is refused (404). Called by the lifecycle
/// test on its lab (NAT network 10.91.0.0/24, gateway 10.91.0.1).
extension SystemTests {
    func expectMirrorServesAGuest(lab: String, state: URL, scratch: URL, gateway: String) throws {
        let cache = scratch.appendingPathComponent("mirror-cache")
        var bytes = [UInt8](repeating: 0, count: 4 << 20)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let sum = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let blobs = cache.appendingPathComponent("artifacts/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try Data(bytes).write(to: blobs.appendingPathComponent(sum))
        let mirror = try ArtifactMirror(cacheRoot: cache, address: gateway, port: 0)
        defer { mirror.stop() }
        let url = "\(mirror.baseURL)/\(sum)/blob.bin"
        let got = try System.nestlab(
            ["ssh", lab, "vm-0", "--", "curl -fsS --max-time 120 \(url) | sha256sum"], state: state)
        #expect(got.status == 0, "\(got.all)")
        #expect(got.stdout.hasPrefix("\(sum) "), "the guest's sha256 of what it downloaded: \(got.stdout)")
        #expect(mirror.requests.contains("/\(sum)/blob.bin"), "\(mirror.requests)")
        let outside = try System.nestlab(
            [
                "ssh", lab, "vm-1", "--",
                "curl -s -o /dev/null -w '%{http_code}' --max-time 60 \(mirror.baseURL)/\(sum)/..%2F..%2Fetc%2Fpasswd; echo; curl -s -o /dev/null -w '%{http_code}' --max-time 60 \(mirror.baseURL)/etc/passwd",
            ],
            state: state)
        #expect(outside.stdout.split(separator: "\n") == ["404", "404"], "\(outside.all)")
    }
}
