import Foundation
import Testing

@testable import NestlabKit

/// A watcher following a console log file the way it follows virtlogd's log on a local host:
/// a real file on disk, written to from another task while the watcher reads it.
@Suite final class ConsoleLogTailTests {
    let dir: URL
    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-tail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: dir) }

    static let kernel =
        "[    0.000000] Linux version 6.1.0-28-amd64\r\n[    1.300719] pci 0000:00:01.3: [8086:7113]\r\n"
    static let ready = "NESTLAB ready instance=vm-0-abc status=done code=0 cloudinit=ran boot=1\r\n"

    func watcher(copy: String = "copy.log", logAppearance: TimeInterval = 10) -> ConsoleWatcher {
        ConsoleWatcher(
            machine: "vm-0", expectedInstance: "vm-0-abc", logFile: dir.appendingPathComponent(copy),
            logAppearance: logAppearance)
    }

    func append(_ text: String, to path: URL) throws {
        if !FileManager.default.fileExists(atPath: path.path) {
            _ = FileManager.default.createFile(atPath: path.path, contents: nil)
        }
        let h = try FileHandle(forWritingTo: path)
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
        try h.close()
    }

    func copyText(_ name: String = "copy.log") throws -> String {
        String(decoding: try Data(contentsOf: dir.appendingPathComponent(name)), as: UTF8.self)
    }

    @Test func readsFromTheOffsetAndSeesReadyWrittenInPieces() async throws {
        let log = dir.appendingPathComponent("vm-0-console.log")
        // An earlier boot of the same domain, with the same instance's ready line: not this boot's.
        let earlier = Self.kernel + Self.ready
        try append(earlier, to: log)
        let w = watcher()
        w.start(domain: nil, source: .logFile(path: log.path, offset: UInt64(earlier.utf8.count)))
        try await Task.sleep(for: .milliseconds(500))
        #expect(w.currentOutcome == nil)
        let now = Self.kernel + "NESTLAB phase=containerd status=ok detail=-\r\n"
        try append(now, to: log)
        // The ready line arrives in two writes, split inside a word.
        try append("NESTLAB ready inst", to: log)
        try await Task.sleep(for: .milliseconds(500))
        #expect(w.currentOutcome == nil)
        try append(String(Self.ready.dropFirst(18)), to: log)
        let outcome = await w.wait(timeout: 120)
        #expect(outcome == .ready(instance: "vm-0-abc"))
        #expect(w.seenPhases.map(\.name) == ["containerd"])
        // The lab's copy holds this boot's bytes exactly, nothing of the earlier one.
        #expect(try copyText() == now + Self.ready)
    }

    @Test func followsTheLogAcrossRotation() async throws {
        let log = dir.appendingPathComponent("vm-0-console.log")
        let w = watcher()
        w.start(domain: nil, source: .logFile(path: log.path, offset: 0))
        try append(Self.kernel, to: log)
        try await Task.sleep(for: .milliseconds(600))
        // virtlogd's rotation: a last write to the old file, renamed to .0, a new file begun.
        try append("before rotation\r\n", to: log)
        try FileManager.default.moveItem(at: log, to: dir.appendingPathComponent("vm-0-console.log.0"))
        try append("after rotation\r\n" + Self.ready, to: log)
        let outcome = await w.wait(timeout: 120)
        #expect(outcome == .ready(instance: "vm-0-abc"))
        #expect(try copyText() == Self.kernel + "before rotation\r\n" + "after rotation\r\n" + Self.ready)
    }

    @Test func waitsForALogThatDoesNotExistYet() async throws {
        // The appearance window is far longer than the test's pause: a loaded machine (CI runs
        // hundreds of tests at once) can hold this task back for seconds, and the test is about
        // a log that appears late, not about the window.
        let log = dir.appendingPathComponent("later-console.log")
        let w = watcher(logAppearance: 600)
        w.start(domain: nil, source: .logFile(path: log.path, offset: 0))
        try await Task.sleep(for: .milliseconds(500))
        try append(Self.ready.replacingOccurrences(of: "status=done code=0", with: "status=error code=1"), to: log)
        let outcome = await w.wait(timeout: 120)
        #expect(outcome == .failed(code: 1, phase: nil, detail: nil))
    }

    @Test func aTruncatedLogIsReadFromItsStart() async throws {
        let log = dir.appendingPathComponent("vm-0-console.log")
        try append(String(repeating: "old line\r\n", count: 50), to: log)
        let w = watcher()
        w.start(domain: nil, source: .logFile(path: log.path, offset: 500))
        try await Task.sleep(for: .milliseconds(500))
        let h = try FileHandle(forWritingTo: log)
        try h.truncate(atOffset: 0)
        try h.close()
        try await Task.sleep(for: .milliseconds(500))
        try append(Self.ready, to: log)
        #expect(await w.wait(timeout: 120) == .ready(instance: "vm-0-abc"))
    }

    @Test func noOutcomeMeansATimeout() async throws {
        let log = dir.appendingPathComponent("vm-0-console.log")
        try append(Self.kernel, to: log)
        let w = watcher()
        w.start(domain: nil, source: .logFile(path: log.path, offset: 0))
        #expect(await w.wait(timeout: 1) == .timedOut)
        #expect(w.tail.last == "[    1.300719] pci 0000:00:01.3: [8086:7113]")
    }

    @Test func anUnreadableLogWithoutADomainIsReported() async throws {
        // A path through a regular file: open fails with ENOTDIR at once, and there is no
        // domain whose console stream could be read instead.
        let file = dir.appendingPathComponent("plain")
        try append("x", to: file)
        let w = watcher()
        w.start(domain: nil, source: .logFile(path: file.appendingPathComponent("console.log").path, offset: 0))
        let outcome = await w.wait(timeout: 120)
        guard case .consoleUnavailable(let why) = outcome else {
            Issue.record("expected consoleUnavailable, got \(outcome)")
            return
        }
        #expect(why.contains("Not a directory"))
    }
}
