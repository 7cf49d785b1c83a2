import Foundation
import Synchronization
import Testing

@testable import NestlabKit

/// What the pipeline tests of `up`, `snapshot` and `rebuild` share: the step lines a run prints,
/// and the steps docs/architecture.md lists for an operation.
enum PipelineSteps {
    /// A quiet progress view that keeps what it prints, and a reader of its "step N/M: name" lines.
    static func recording() -> (ProgressView, @Sendable () -> [String]) {
        let lines = Mutex<[String]>([])
        let progress = ProgressView(mode: .quiet) { line in lines.withLock { $0.append(line) } }
        return (progress, { lines.withLock { $0 }.filter { $0.hasPrefix("step ") } })
    }

    /// The docs' block that starts with `heading` ("snapshot  Engine/Snapshot/…"), then
    /// "  N name   TypeName   what it does" lines: (name, type name) of each.
    static func listedInDocs(after heading: String) throws -> [(String, String)] {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/architecture.md")
        let lines = try String(contentsOf: docs, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix(heading) }, "no '\(heading)' in the docs")
        var listed: [(String, String)] = []
        for line in lines[(start + 1)...] {
            let columns = line.split(separator: "  ", omittingEmptySubsequences: true).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard columns.count >= 2, let space = columns[0].firstIndex(of: " "), Int(columns[0][..<space]) != nil
            else { break }
            listed.append((String(columns[0][space...].dropFirst()), columns[1]))
        }
        return listed
    }
}
