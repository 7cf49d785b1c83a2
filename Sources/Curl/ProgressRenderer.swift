import Foundation
import Synchronization

/// Shows transfer progress to a person.
///
/// On a terminal it keeps one bar per running transfer (bytes, rate, ETA) and redraws
/// them in place; finished transfers leave one line above the bars. Anywhere else (a log
/// file, CI) it prints a few plain lines per transfer: start, every 25%, and the end.
public final class ProgressRenderer: Sendable {
    /// How to draw.
    public enum Style: Sendable, Equatable {
        /// `terminal` when standard error is a TTY (and TERM is not "dumb"), else `plain`.
        case automatic
        /// Redrawn bars, for a terminal `width` columns wide.
        case terminal(width: Int)
        /// Append-only lines.
        case plain
    }

    private struct State {
        var order: [Int] = []
        var latest: [Int: TransferProgress] = [:]
        var quarter: [Int: Int] = [:]
        var drawnLines = 0
        var lastDraw = ContinuousClock.now - .seconds(1)
    }

    private let style: Style
    private let output: @Sendable (String) -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - style: how to draw; `.automatic` looks at standard error.
    ///   - output: where text goes (default: standard error, unbuffered).
    public init(
        style: Style = .automatic, output: @escaping @Sendable (String) -> Void = ProgressRenderer.writeToStandardError
    ) {
        if style == .automatic {
            self.style =
                ProgressRenderer.standardErrorIsTerminal ? .terminal(width: ProgressRenderer.terminalWidth) : .plain
        } else {
            self.style = style
        }
        self.output = output
    }

    /// A handler to pass to a ``Downloader``.
    public var handler: ProgressHandler {
        { [self] progress in self.handle(progress) }
    }

    /// Draws one progress event.
    public func handle(_ progress: TransferProgress) {
        switch style {
        case .plain, .automatic:
            if let line = plainLine(progress) { output(line + "\n") }
        case .terminal(let width):
            if let text = terminalUpdate(progress, width: width) { output(text) }
        }
    }

    // MARK: plain

    private func plainLine(_ p: TransferProgress) -> String? {
        state.withLock { state -> String? in
            switch p.phase {
            case .started:
                state.quarter[p.id] = p.fraction.map { Int($0 * 4) } ?? 0
                var line = "downloading \(p.label)"
                if let total = p.totalBytes { line += " (\(Format.bytes(total)))" }
                line += " from \(p.url)"
                if p.resumedFrom > 0 { line += ", resuming at \(Format.bytes(p.resumedFrom))" }
                return line
            case .running:
                guard let fraction = p.fraction, let total = p.totalBytes else { return nil }
                let quarter = Int(fraction * 4)
                guard quarter > state.quarter[p.id, default: 0], quarter < 4 else { return nil }
                state.quarter[p.id] = quarter
                return
                    "\(p.label): \(quarter * 25)% (\(Format.bytes(p.bytesDone)) of \(Format.bytes(total)), \(Format.rate(p.bytesPerSecond)))"
            case .retrying(let attempt, let delay, let reason):
                return "retrying \(p.label) in \(Format.seconds(delay)) (attempt \(attempt)): \(reason)"
            case .finished:
                state.quarter[p.id] = nil
                return
                    "downloaded \(p.label): \(Format.bytes(p.bytesDone)) in \(Format.seconds(p.elapsed)) (\(Format.rate(p.bytesPerSecond)))"
            case .failed(let message):
                state.quarter[p.id] = nil
                return "failed \(p.label): \(message)"
            }
        }
    }

    // MARK: terminal

    private func terminalUpdate(_ p: TransferProgress, width: Int) -> String? {
        state.withLock { state -> String? in
            var permanent: [String] = []
            switch p.phase {
            case .started, .running:
                if state.latest[p.id] == nil { state.order.append(p.id) }
                state.latest[p.id] = p
            case .retrying(let attempt, let delay, let reason):
                permanent.append("retrying \(p.label) in \(Format.seconds(delay)) (attempt \(attempt)): \(reason)")
            case .finished:
                state.order.removeAll { $0 == p.id }
                state.latest[p.id] = nil
                permanent.append(
                    "✓ \(p.label)  \(Format.bytes(p.bytesDone)) in \(Format.seconds(p.elapsed))  \(Format.rate(p.bytesPerSecond))"
                )
            case .failed(let message):
                state.order.removeAll { $0 == p.id }
                state.latest[p.id] = nil
                permanent.append("✗ \(p.label): \(message)")
            }
            let now = ContinuousClock.now
            // Running updates from many transfers are coalesced to ~10 redraws per second.
            if p.phase == .running && permanent.isEmpty && now - state.lastDraw < .milliseconds(100) {
                return nil
            }
            state.lastDraw = now
            var text = ""
            if state.drawnLines > 0 { text += "\u{1B}[\(state.drawnLines)A" }
            for line in permanent { text += "\r\u{1B}[2K" + Format.clip(line, width) + "\n" }
            for id in state.order {
                guard let progress = state.latest[id] else { continue }
                text += "\r\u{1B}[2K" + ProgressRenderer.bar(progress, width: width) + "\n"
            }
            text += "\u{1B}[J"
            state.drawnLines = state.order.count
            return text
        }
    }

    /// One bar line: `label [=====>    ]  42%  1.2 GiB/2.9 GiB  45.6 MiB/s  ETA 0:37`.
    static func bar(_ p: TransferProgress, width: Int) -> String {
        let label = Format.pad(Format.clip(p.label, 24), 24)
        let size = p.totalBytes.map { "\(Format.bytes(p.bytesDone))/\(Format.bytes($0))" } ?? Format.bytes(p.bytesDone)
        let percent =
            p.fraction.map {
                String(repeating: " ", count: max(0, 3 - String(Int($0 * 100)).count)) + "\(Int($0 * 100))%"
            } ?? "  ?%"
        let eta = p.eta.map { "ETA \(Format.clock($0))" } ?? "ETA --:--"
        let tail = "\(percent)  \(size)  \(Format.rate(p.bytesPerSecond))  \(eta)"
        let barWidth = max(10, min(40, width - label.count - tail.count - 5))
        let filled = Int((p.fraction ?? 0) * Double(barWidth))
        var bar = String(repeating: "=", count: filled)
        if filled < barWidth { bar += ">" + String(repeating: " ", count: barWidth - filled - 1) }
        return Format.clip("\(label) [\(bar)] \(tail)", width)
    }

    // MARK: output

    /// Writes text to standard error without buffering, so bars appear at once.
    public static let writeToStandardError: @Sendable (String) -> Void = { text in
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
        bytes.removeAll()
    }

    static var standardErrorIsTerminal: Bool {
        isatty(2) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    static var terminalWidth: Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return columns
        }
        return 80
    }
}
