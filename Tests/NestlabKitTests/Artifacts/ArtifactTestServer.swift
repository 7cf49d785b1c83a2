import Foundation
import Spawn

/// Starts the Curl tests' HTTP server (Tests/CurlTests/Server/testserver.py) for the
/// artifact cache tests. A trimmed copy of CurlTests' LocalServer: test targets cannot
/// share code without a library target in Package.swift.
final class ArtifactTestServer: Sendable {
    let root: URL
    let log: URL
    let port: Int
    private let process: SpawnedProcess

    static let script: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CurlTests/Server/testserver.py")

    /// Starts a server for `directory`; the blocking wait for the port runs on its own thread.
    static func start(in directory: URL) async throws -> ArtifactTestServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try ArtifactTestServer(in: directory) })
            }.start()
        }
    }

    private init(in directory: URL) throws {
        root = directory.appendingPathComponent("served")
        log = directory.appendingPathComponent("requests.log")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data().write(to: log)
        // Nothing inherited, reaped by waitpid: see SpawnedProcess (and LocalServer).
        process = try SpawnedProcess.start(
            ["python3", Self.script.path, "--root", root.path, "--log", log.path, "--port", "0"],
            stdin: .pipe, stdout: .pipe, stderr: .inherit)
        var text = ""
        while !text.contains("\n") {
            let chunk = process.standardOutput!.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            process.signal(SIGKILL)
            process.wait()
            throw CacheTestFailure("test server did not start: '\(text)'")
        }
        self.port = port
    }

    deinit { stop() }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    func serve(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: root.appendingPathComponent(name))
    }

    /// Paths of every request logged so far.
    func requestPaths() throws -> [String] {
        let text = try String(contentsOf: log, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["path"] as? String ?? "?"
        }
    }

    /// Ends the server and waits until it is gone: once this returns its port is closed.
    func stop() {
        process.signal(SIGKILL)
        process.wait()
    }
}

struct CacheTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
