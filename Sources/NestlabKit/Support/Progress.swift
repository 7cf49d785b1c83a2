import Foundation
import Synchronization

/// Shows what a long run is doing: a live view per machine on a terminal,
/// plain timestamped lines otherwise, nothing on stdout in JSON mode.
///
/// Called from many tasks at once; the screen's state lives behind a Mutex, and every write to
/// the terminal happens while it is held, so lines never interleave.
public final class ProgressView: Sendable {
    public enum Mode: Sendable { case live, lines, quiet }

    private let mode: Mode
    private let start = Date()
    private let log: (@Sendable (String) -> Void)?
    private let screen = Mutex(Screen())

    /// - Parameter log: also receives every change as a line (the lab log file).
    public init(mode: Mode, log: (@Sendable (String) -> Void)? = nil) {
        self.mode = mode
        self.log = log
    }

    public static func mode(json: Bool, plain: Bool) -> Mode {
        if json { return .quiet }
        return (!plain && Console.stderrIsTTY && ProcessInfo.processInfo.environment["TERM"] != "dumb") ? .live : .lines
    }

    var elapsed: String { String(format: "%6.1fs", Date().timeIntervalSince(start)) }

    /// Sets a row's phase ("defining domain", "booting").
    public func update(_ key: String, _ phase: String, detail: String = "") {
        screen.withLock { s in
            if s.rows[key] == nil { s.order.append(key) }
            let old = s.rows[key]
            let changed = old?.phase != phase || old?.detail != detail
            s.rows[key] = Row(
                phase: phase, detail: detail, since: old?.phase == phase ? old!.since : Date(), done: false,
                failed: false)
            if changed { emit(key, &s) }
        }
    }

    public func finish(_ key: String, _ phase: String, failed: Bool = false, detail: String = "") {
        screen.withLock { s in
            if s.rows[key] == nil { s.order.append(key) }
            s.rows[key] = Row(phase: phase, detail: detail, since: Date(), done: true, failed: failed)
            emit(key, &s)
        }
    }

    /// A message that is not about one row.
    public func note(_ message: String) {
        screen.withLock { s in
            log?(message)
            switch mode {
            case .quiet: break
            case .lines: Console.err("[\(elapsed)] \(message)")
            case .live:
                s.clear()
                Console.err(message)
                s.draw(force: true)
            }
        }
    }

    /// The operation moved on to its next step: a line in the lab log, and on the screen
    /// unless the output is JSON.
    public func step(_ index: Int, of count: Int, _ name: String) {
        note("step \(index)/\(count): \(name)")
    }

    /// Leaves the live view in place and stops redrawing.
    public func close() {
        screen.withLock { s in
            if mode == .live { s.draw(force: true) }
            s.drawnLines = 0
        }
    }

    private func emit(_ key: String, _ s: inout Screen) {
        guard let r = s.rows[key] else { return }
        let line = "\(key): \(r.phase)" + (r.detail.isEmpty ? "" : " (\(r.detail))")
        // Plain output: a detail-only change (a percentage) is printed at most every 5 seconds.
        if mode == .lines, !r.done, let last = s.lastLinePhase[key], last.phase == r.phase,
            Date().timeIntervalSince(last.at) < 5
        {
            return
        }
        s.lastLinePhase[key] = (r.phase, Date())
        log?(line)
        switch mode {
        case .quiet: break
        case .lines: Console.err("[\(elapsed)] \(line)")
        case .live: s.draw(force: r.done)
        }
    }

    private struct Row {
        var phase: String
        var detail: String
        var since: Date
        var done: Bool
        var failed: Bool
    }

    /// The rows and what is on the terminal now.
    private struct Screen {
        var order: [String] = []
        var rows: [String: Row] = [:]
        var drawnLines = 0
        var lastDraw = Date.distantPast
        var lastLinePhase: [String: (phase: String, at: Date)] = [:]

        mutating func clear() {
            guard drawnLines > 0 else { return }
            Console.errRaw("\u{1B}[\(drawnLines)A\u{1B}[J")
            drawnLines = 0
        }

        mutating func draw(force: Bool) {
            let now = Date()
            if !force && now.timeIntervalSince(lastDraw) < 0.1 { return }
            lastDraw = now
            clear()
            let width = (order.map(\.count).max() ?? 4) + 1
            var out = ""
            for k in order {
                guard let r = rows[k] else { continue }
                let mark = r.done ? (r.failed ? "✗" : "✓") : "…"
                let secs = Int(now.timeIntervalSince(r.since))
                let pad = String(repeating: " ", count: max(0, width - k.count))
                out +=
                    "\(mark) \(k)\(pad)\(r.phase)" + (r.detail.isEmpty ? "" : "  \(r.detail)")
                    + (r.done ? "" : "  \(secs)s") + "\n"
            }
            Console.errRaw(out)
            drawnLines = order.count
        }
    }
}
