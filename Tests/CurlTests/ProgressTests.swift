import Foundation
import Synchronization
import Testing

@testable import Curl

/// Collects what a renderer writes.
final class Collector: Sendable {
    private let text = Mutex("")
    var output: @Sendable (String) -> Void { { [self] chunk in text.withLock { $0 += chunk } } }
    var value: String { text.withLock { $0 } }
    var lines: [String] { value.split(separator: "\n").map(String.init) }
}

private func event(
    _ phase: TransferProgress.Phase, done: Int64, total: Int64? = 4 << 20, id: Int = 1,
    label: String = "noble.img", rate: Double = 2_097_152, elapsed: Duration = .seconds(2)
) -> TransferProgress {
    TransferProgress(
        id: id, label: label, url: "http://mirror/noble.img", phase: phase, bytesDone: done,
        totalBytes: total, resumedFrom: 0, bytesPerSecond: rate, elapsed: elapsed)
}

@Suite("Progress rendering")
struct ProgressTests {
    @Test("plain output: a start line, one line per quarter, and a done line")
    func plainLines() {
        let collector = Collector()
        let renderer = ProgressRenderer(style: .plain, output: collector.output)
        let mib: Int64 = 1 << 20
        for e in [
            event(.started, done: 0), event(.running, done: mib / 2), event(.running, done: mib),
            event(.running, done: mib + 10), event(.running, done: 3 * mib), event(.running, done: 4 * mib),
            event(.finished, done: 4 * mib),
        ] {
            renderer.handle(e)
        }
        #expect(
            collector.lines == [
                "downloading noble.img (4.0 MiB) from http://mirror/noble.img",
                "noble.img: 25% (1.0 MiB of 4.0 MiB, 2.0 MiB/s)",
                "noble.img: 75% (3.0 MiB of 4.0 MiB, 2.0 MiB/s)",
                "downloaded noble.img: 4.0 MiB in 2.0s (2.0 MiB/s)",
            ])
    }

    @Test("plain output reports retries and failures")
    func plainRetryAndFailure() {
        let collector = Collector()
        let renderer = ProgressRenderer(style: .plain, output: collector.output)
        renderer.handle(event(.retrying(attempt: 2, delay: .milliseconds(500), reason: "http 503"), done: 0))
        renderer.handle(event(.failed("http 404 for x (not found)"), done: 0))
        #expect(
            collector.lines == [
                "retrying noble.img in 0.5s (attempt 2): http 503",
                "failed noble.img: http 404 for x (not found)",
            ])
    }

    @Test("terminal output draws a bar per transfer and redraws in place")
    func terminalBars() {
        let collector = Collector()
        let renderer = ProgressRenderer(style: .terminal(width: 100), output: collector.output)
        renderer.handle(event(.started, done: 0, id: 1, label: "a.img"))
        renderer.handle(event(.started, done: 0, id: 2, label: "b.img"))
        renderer.handle(event(.finished, done: 4 << 20, id: 1, label: "a.img"))
        let text = collector.value
        // Second draw moves up over the one bar drawn before; the third over two.
        #expect(text.contains("\u{1B}[1A"))
        #expect(text.contains("\u{1B}[2A"))
        #expect(text.contains("✓ a.img  4.0 MiB in 2.0s  2.0 MiB/s\n"))
        #expect(
            text.hasSuffix(
                "\r\u{1B}[2K" + ProgressRenderer.bar(event(.started, done: 0, id: 2, label: "b.img"), width: 100)
                    + "\n\u{1B}[J"))
    }

    @Test("a bar shows percent, bytes, rate and ETA within the width")
    func barLine() {
        let line = ProgressRenderer.bar(event(.running, done: 1 << 20), width: 100)
        #expect(
            line
                == "noble.img                [=======>                     ]  25%  1.0 MiB/4.0 MiB  2.0 MiB/s  ETA 0:02"
        )
        #expect(line.count <= 100)
        let unknown = ProgressRenderer.bar(event(.running, done: 1 << 20, total: nil, rate: 0), width: 100)
        #expect(unknown.hasSuffix("]   ?%  1.0 MiB  0 B/s  ETA --:--"))
    }

    @Test("formatting of sizes, rates and clocks")
    func formats() {
        #expect(Format.bytes(512) == "512 B")
        #expect(Format.bytes(1536) == "1.5 KiB")
        #expect(Format.bytes(3 << 30) == "3.0 GiB")
        #expect(Format.clock(.seconds(75)) == "1:15")
        #expect(Format.clock(.seconds(3725)) == "1:02:05")
    }

    @Test("a real download reports started then finished with the full size")
    func downloadEvents() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try await LocalServer.start(in: scratch)
        defer { server.stop() }
        let bytes = testBytes(1 << 20, seed: 40)
        try server.serve("p.bin", bytes)
        let box = EventBox()
        let downloader = Downloader(options: fastOptions(), progress: { e in box.append(e) })

        _ = try await downloader.download(
            from: server.url("/files/p.bin"), to: scratch.path("p"),
            checksum: .sha256(sha256Hex(bytes)), label: "p")
        let seen = box.events
        #expect(seen.first?.phase == .started)
        #expect(seen.first?.totalBytes == Int64(bytes.count))
        #expect(seen.last?.phase == .finished)
        #expect(seen.last?.bytesDone == Int64(bytes.count))
        #expect(Set(seen.map(\.id)).count == 1)
        #expect(seen.allSatisfy { $0.label == "p" })
    }
}

final class EventBox: Sendable {
    private let state = Mutex<[TransferProgress]>([])
    func append(_ event: TransferProgress) { state.withLock { $0.append(event) } }
    var events: [TransferProgress] { state.withLock { $0 } }
}
