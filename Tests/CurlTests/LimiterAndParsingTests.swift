import Foundation
import Synchronization
import Testing

@testable import Curl

@Suite("Concurrency limit")
struct LimiterTests {
    @Test("no more than the limit run at once")
    func boundsConcurrency() async throws {
        let limiter = ConcurrencyLimiter(limit: 2)
        let counters = Peak()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await limiter.withPermit {
                        counters.withLock {
                            $0.running += 1
                            $0.peak = max($0.peak, $0.running)
                        }
                        try await Task.sleep(for: .milliseconds(30))
                        counters.withLock { $0.running -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counters.withLock { $0.peak } == 2)
    }
}

@Suite("Checksum files")
struct ChecksumFileTests {
    let a = String(repeating: "a", count: 64)
    let b = String(repeating: "B", count: 64)

    @Test("GNU sha256sum lines, text and binary mode, with ./ prefixes")
    func gnu() throws {
        let text = "\(a)  noble.img\n\(b) *./kubeadm\n"
        #expect(try ChecksumFile.digest(for: "noble.img", in: text, url: "u") == a)
        #expect(try ChecksumFile.digest(for: "kubeadm", in: text, url: "u") == b.lowercased())
    }

    @Test("BSD-style lines")
    func bsd() throws {
        #expect(try ChecksumFile.digest(for: "x.tar.gz", in: "SHA256 (x.tar.gz) = \(a)\n", url: "u") == a)
    }

    @Test("a lone digest is a single-file .sha256")
    func lone() throws {
        #expect(try ChecksumFile.digest(for: "anything", in: "\(a)\n", url: "u") == a)
    }

    @Test("entries with directories match by base name")
    func baseName() throws {
        #expect(try ChecksumFile.digest(for: "kubelet", in: "\(a)  bin/linux/amd64/kubelet\n", url: "u") == a)
    }

    @Test("not listed, garbage and conflicting entries are errors with clear messages")
    func errors() {
        #expect(throws: CurlError.checksumNotListed(checksumsURL: "u", fileName: "c")) {
            try ChecksumFile.digest(for: "c", in: "\(a)  d\n", url: "u")
        }
        #expect(
            throws: CurlError.invalidChecksumFile(
                url: "u", reason: "line 2 does not start with a 64-character sha256 digest")
        ) {
            try ChecksumFile.digest(for: "c", in: "\(a)  c\n<html>\n", url: "u")
        }
        #expect(throws: CurlError.invalidChecksumFile(url: "u", reason: "it lists 'c' with different digests")) {
            try ChecksumFile.digest(for: "c", in: "\(a)  c\n\(b)  c\n", url: "u")
        }
        #expect(throws: CurlError.invalidChecksumFile(url: "u", reason: "it lists no digests")) {
            try ChecksumFile.digest(for: "c", in: "# nothing\n", url: "u")
        }
    }

    @Test("digests are validated")
    func digests() throws {
        #expect(try SHA256Digest.normalize(b) == b.lowercased())
        #expect(throws: CurlError.invalidDigest("xyz")) { try SHA256Digest.normalize("xyz") }
        #expect(
            CurlError.invalidDigest("xyz").description
                == "'xyz' is not a sha256 digest (expected 64 hexadecimal characters)")
    }

    @Test("Content-Range values")
    func contentRange() {
        #expect(ContentRange("bytes 100-199/1000") == ContentRange(start: 100, total: 1000))
        #expect(ContentRange("bytes */1000") == ContentRange(start: nil, total: 1000))
        #expect(ContentRange("bytes 5-9/*") == ContentRange(start: 5, total: nil))
        #expect(ContentRange("items 1-2/3") == nil)
    }
}

/// Counts how many tasks are inside the limiter at once.
final class Peak: Sendable {
    private let state = Mutex((running: 0, peak: 0))
    func withLock<T>(_ body: (inout (running: Int, peak: Int)) -> T) -> T { state.withLock { body(&$0) } }
}

extension ContentRange {
    init(start: Int64?, total: Int64?) {
        self.init("bytes */0")!
        self.start = start
        self.total = total
    }
}
