import Foundation
import Spawn

/// A request as the test server logged it (keys as it writes them).
// swift-format-ignore: AlwaysUseLowerCamelCase
struct LoggedRequest: Decodable, Equatable {
    var method: String?
    var path: String?
    var range: String?
    var status: Int?
    var tls_error: String?
}

/// A per-test scratch directory, removed by `remove()`.
struct Scratch {
    let url: URL

    init(_ name: String = #function) throws {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("nestlab-curltests-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ component: String) -> URL { url.appendingPathComponent(component) }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// TLS files for the HTTPS mode of the test server.
struct ServerTLS {
    var certificate: String
    var key: String
    var clientCA: String?
}

/// Runs Tests/CurlTests/Server/testserver.py on 127.0.0.1 with a port the OS picks.
///
/// Every test starts its own server with its own root and log, so tests can run in
/// parallel. The server also exits by itself when this process's end of its stdin closes.
final class LocalServer {
    let root: URL
    let log: URL
    let port: Int
    let scheme: String
    private let process: SpawnedProcess

    static let script: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Server/testserver.py")

    /// Starts a server; the blocking wait for its port runs on its own thread so that
    /// parallel tests do not tie up Swift's small cooperative pool.
    static func start(in scratch: Scratch, tls: ServerTLS? = nil) async throws -> LocalServer {
        let result: Result<UncheckedBox<LocalServer>, Error> = await onThread {
            Result { UncheckedBox(try LocalServer(in: scratch, tls: tls)) }
        }
        return try result.get().value
    }

    private init(in scratch: Scratch, tls: ServerTLS?) throws {
        root = scratch.path("served")
        log = scratch.path("requests.log")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data().write(to: log)
        var arguments = [LocalServer.script.path, "--root", root.path, "--log", log.path, "--port", "0"]
        if let tls {
            arguments += ["--tls-cert", tls.certificate, "--tls-key", tls.key]
            if let ca = tls.clientCA { arguments += ["--client-ca", ca] }
        }
        scheme = tls == nil ? "http" : "https"
        // Spawned with nothing inherited and reaped by waitpid (see SpawnedProcess): a server
        // started with Foundation's Process once held another Process's exit socket and
        // stalled the unit tier until the server ended by itself, 15 minutes later.
        let errors = scratch.path("server.err")
        process = try SpawnedProcess.start(
            ["python3"] + arguments, stdin: .pipe, stdout: .pipe, stderr: .file(errors.path))

        // Read "PORT n\n"; EOF first means the server failed to start.
        var text = ""
        while !text.contains("\n") {
            let chunk = process.standardOutput!.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            process.signal(SIGKILL)
            process.wait()
            let err = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw TestFailure("test server did not start: \(text) \(err)")
        }
        self.port = port
    }

    deinit { stop() }

    /// `http(s)://127.0.0.1:PORT` + path.
    func url(_ path: String) -> URL {
        URL(string: "\(scheme)://127.0.0.1:\(port)\(path)")!
    }

    /// Puts a file in the served root.
    @discardableResult
    func serve(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let file = root.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }

    /// Every request logged so far.
    func requests() throws -> [LoggedRequest] {
        let text = try String(contentsOf: log, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONDecoder().decode(LoggedRequest.self, from: Data($0.utf8))
        }
    }

    /// Ends the server and waits until it is gone: once this returns its port is closed.
    func stop() {
        process.signal(SIGKILL)
        process.wait()
    }
}

/// Carries a non-Sendable value across the thread hop in ``LocalServer/start(in:tls:)``.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Runs blocking work (process I/O) on a dedicated thread.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
func testBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

/// Runs a command and fails with its output if it exits non-zero.
@discardableResult
func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
    let result = try SpawnedProcess.run([executable] + arguments, directory: directory?.path)
    let text = result.output + result.errors
    guard result.status == 0 else {
        throw TestFailure("\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
    }
    return text
}
