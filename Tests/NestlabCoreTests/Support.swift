import Foundation
import Testing

/// Runs a real tool and captures its output (tests check rendered files with libvirt's,
/// cloud-init's and containerd's own validators).
struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var all: String { stdout + stderr }
}

enum Tool {
    static func run(_ argv: [String], input: Data? = nil, environment: [String: String]? = nil) throws -> ToolResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = inPipe
        try p.run()
        if let input { inPipe.fileHandleForWriting.write(input) }
        try inPipe.fileHandleForWriting.close()
        // Read both pipes fully before waiting, so a chatty tool cannot block on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }  // written once by the reader, read after wait()
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        let outData = outBox.data
        return ToolResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self))
    }

    static func exists(_ name: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(name)"]).status) == 0
    }
}

enum Fixtures {
    /// The source folder of this test target's fixtures (golden files are updated there).
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ relative: String) -> URL { dir.appendingPathComponent(relative) }

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: url(relative), encoding: .utf8)
    }

    static var updateGolden: Bool { ProcessInfo.processInfo.environment["NESTLAB_UPDATE_GOLDEN"] == "1" }

    /// Compares `actual` with a golden file; with NESTLAB_UPDATE_GOLDEN=1 rewrites it instead.
    static func expectGolden(_ actual: String, _ relative: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let u = url("golden/" + relative)
        if updateGolden {
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: u, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: u, encoding: .utf8)
        #expect(actual == expected, "differs from golden file \(relative); run with NESTLAB_UPDATE_GOLDEN=1 to accept", sourceLocation: sourceLocation)
    }

    static func tempDir() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
