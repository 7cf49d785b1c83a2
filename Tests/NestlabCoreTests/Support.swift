import Foundation
import Spawn
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
        let r = try SpawnedProcess.run(["/usr/bin/env"] + argv, input: input, environment: environment)
        return ToolResult(status: r.status, stdout: r.output, stderr: r.errors)
    }

    static func exists(_ name: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(name)"]).status) == 0
    }
}

enum Fixtures {
    /// The source folder of this test target's fixtures (golden files are updated there).
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func url(_ relative: String) -> URL { dir.appendingPathComponent(relative) }

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: url(relative), encoding: .utf8)
    }

    static var updateGolden: Bool { ProcessInfo.processInfo.environment["NESTLAB_UPDATE_GOLDEN"] == "1" }

    /// Compares `actual` with a golden file; with NESTLAB_UPDATE_GOLDEN=1 rewrites it instead.
    static func expectGolden(_ actual: String, _ relative: String, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let u = url("golden/" + relative)
        if updateGolden {
            try FileManager.default.createDirectory(
                at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: u, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: u, encoding: .utf8)
        #expect(
            actual == expected, "differs from golden file \(relative); run with NESTLAB_UPDATE_GOLDEN=1 to accept",
            sourceLocation: sourceLocation)
    }

    static func tempDir() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
