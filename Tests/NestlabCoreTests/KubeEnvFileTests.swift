import Foundation
import Testing

@testable import NestlabCore

@Suite("node env file")
struct KubeEnvFileTests {
    static let tricky = [
        "plain", "with space", "it's", "''", "a'b'c", "$HOME", "${PATH}", "`id`", "$(id)", "back\\slash", "\\'",
        "line one\nline two", "trailing newline\n", "\n", "tab\tand\rcr", "!history", "*glob?", "~", "é 😀", "",
        "; rm -rf /", "\"double\"", "#comment",
    ]

    @Test func valuesRoundTripThroughBash() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = EnvFile()
        for (index, value) in Self.tricky.enumerated() { try env.set("NESTLAB_V\(index)", value) }
        let file = dir.appendingPathComponent("node.env")
        try Data(env.render().utf8).write(to: file)
        for (index, value) in Self.tricky.enumerated() {
            // printf %s plus a sentinel keeps trailing newlines that $(...) would strip.
            let result = try runProcess([
                "/bin/bash", "-c", "set -eu; source \"$1\"; printf '%s|' \"$NESTLAB_V\(index)\"", "bash", file.path,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == value + "|", "value \(index): \(value.debugDescription)")
        }
    }

    @Test func rejectsWhatAShellCannotHold() throws {
        var env = EnvFile()
        #expect(throws: KubeError.invalidEnvKey("lower")) { try env.set("lower", "x") }
        #expect(throws: KubeError.invalidEnvKey("1X")) { try env.set("1X", "x") }
        #expect(throws: KubeError.invalidEnvValue(key: "X")) { try env.set("X", "a\u{0}b") }
        try env.set("X", "1")
        try env.set("X", "2")
        #expect(env.entries.count == 1 && env["X"] == "2")
        #expect(EnvFile.quote("it's") == "'it'\\''s'")
    }
}
