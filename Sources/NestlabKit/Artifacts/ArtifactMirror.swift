import Foundation
import Synchronization

/// A read-only HTTP server for the artifact cache, bound to a lab network's gateway
/// address while `up` runs, so that guests install pinned artifacts without internet
/// (`GET /<sha256>/<file name>`, the layout `Artifact.resolvedURL(mirror:)` uses).
///
/// It serves only content-addressed blobs that are already verified in the cache: no
/// secrets, no directory listing, nothing outside `artifacts/sha256/`.
public final class ArtifactMirror: Sendable {
    public static let defaultPort: UInt16 = 8931

    private let blobs: URL
    private let fd: Int32
    /// Whether `stop` was called, and the paths requested so far.
    private let state = Mutex<(stopped: Bool, served: [String])>((false, []))
    public let address: String
    public let port: UInt16

    public var baseURL: String { "http://\(address):\(port)" }

    /// Paths requested so far (for logs and tests).
    public var requests: [String] { state.withLock { $0.served } }

    /// Binds `address:port` (port 0 picks a free one) and starts serving `cacheRoot/artifacts/sha256`.
    public init(cacheRoot: URL, address: String, port: UInt16 = ArtifactMirror.defaultPort) throws {
        blobs = cacheRoot.appendingPathComponent("artifacts/sha256")
        self.address = address
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw HostError.system("cannot open a socket for the artifact mirror", errno: errno) }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &sa.sin_addr) == 1 else {
            close(s)
            throw HostError.system("'\(address)' is not an IPv4 address for the artifact mirror", errno: EINVAL)
        }
        let bound = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(s, 64) == 0 else {
            let e = errno
            close(s)
            throw HostError.system("cannot serve the artifact mirror on \(address):\(port)", errno: e)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        self.port = UInt16(bigEndian: sa.sin_port)
        fd = s
        let t = Thread { [self] in acceptLoop() }
        t.name = "artifact mirror"
        t.start()
    }

    deinit { stop() }

    public func stop() {
        let first = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        if first {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private func acceptLoop() {
        while !state.withLock({ $0.stopped }) {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            let t = Thread { [self] in self.serve(c) }
            t.start()
        }
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var head = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        while head.count < 16384 {
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { return }
            head.append(contentsOf: buf[0..<n])
            if head.range(of: Data("\r\n\r\n".utf8)) != nil { break }
        }
        let requestLine = String(decoding: head.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" else {
            respond(c, status: "405 Method Not Allowed", body: "only GET and HEAD\n")
            return
        }
        let path = String(parts[1])
        state.withLock { $0.served.append(path) }
        let comps = path.split(separator: "/", omittingEmptySubsequences: true)
        guard comps.count == 2, comps[0].count == 64, comps[0].allSatisfy({ $0.isASCIIHexDigit && !$0.isUppercase }),
            !comps[1].contains(".."), !comps[1].isEmpty
        else {
            respond(c, status: "404 Not Found", body: "not a cached artifact: \(path)\n")
            return
        }
        let file = blobs.appendingPathComponent(String(comps[0])).path
        let f = open(file, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else {
            respond(c, status: "404 Not Found", body: "not in this cache: \(comps[0])\n")
            return
        }
        defer { close(f) }
        var st = stat()
        fstat(f, &st)
        let size = Int(st.st_size)
        let header =
            "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        guard sendAll(c, Array(header.utf8)) else { return }
        if parts[0] == "HEAD" { return }
        var off: off_t = 0
        while off < off_t(size) {
            let n = sendfile(c, f, &off, size - Int(off))
            if n <= 0 {
                if errno == EINTR { continue }
                return
            }
        }
    }

    private func respond(_ c: Int32, status: String, body: String) {
        let text =
            "HTTP/1.1 \(status)\r\nContent-Length: \(body.utf8.count)\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n\(body)"
        _ = sendAll(c, Array(text.utf8))
    }

    private func sendAll(_ c: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(c, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if errno == EINTR { continue }
                return false
            }
            sent += n
        }
        return true
    }
}
