import Foundation

/// Starts the Curl tests' HTTP server (Tests/CurlTests/Server/testserver.py) for the
/// artifact cache tests. A trimmed copy of CurlTests' LocalServer: test targets cannot
/// share code without a library target in Package.swift.
final class ArtifactTestServer: @unchecked Sendable {
    let root: URL
    let log: URL
    let port: Int
    private let process: Process
    private let stdinPipe: Pipe
    private var stopped = false

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
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--root", root.path, "--log", log.path, "--port", "0"]
        let stdout = Pipe()
        stdinPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
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

    func stop() {
        guard !stopped else { return }
        stopped = true
        try? stdinPipe.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct CacheTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
