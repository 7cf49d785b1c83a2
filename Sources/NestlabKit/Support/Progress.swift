import Foundation

/// Shows what a long run is doing: a live view per machine on a terminal,
/// plain timestamped lines otherwise, nothing on stdout in JSON mode.
public final class ProgressView: @unchecked Sendable {
    public enum Mode: Sendable { case live, lines, quiet }

    private let lock = NSLock()
    private let mode: Mode
    private let start = Date()
    private var order: [String] = []
    private var rows: [String: (phase: String, detail: String, since: Date, done: Bool, failed: Bool)] = [:]
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    private let log: (@Sendable (String) -> Void)?

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
        lock.withLock {
            if rows[key] == nil { order.append(key) }
            let changed = rows[key]?.phase != phase || rows[key]?.detail != detail
            rows[key] = (phase, detail, rows[key]?.phase == phase ? rows[key]!.since : Date(), false, false)
            if changed { emit(key) }
        }
    }

    public func finish(_ key: String, _ phase: String, failed: Bool = false, detail: String = "") {
        lock.withLock {
            if rows[key] == nil { order.append(key) }
            rows[key] = (phase, detail, Date(), true, failed)
            emit(key)
        }
    }

    /// A message that is not about one row.
    public func note(_ message: String) {
        lock.withLock {
            log?(message)
            switch mode {
            case .quiet: break
            case .lines: Console.err("[\(elapsed)] \(message)")
            case .live:
                clear()
                Console.err(message)
                draw(force: true)
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
        lock.withLock {
            if mode == .live { draw(force: true) }
            drawnLines = 0
        }
    }

    private var lastLinePhase: [String: (phase: String, at: Date)] = [:]

    private func emit(_ key: String) {
        guard let r = rows[key] else { return }
        let line = "\(key): \(r.phase)" + (r.detail.isEmpty ? "" : " (\(r.detail))")
        // Plain output: a detail-only change (a percentage) is printed at most every 5 seconds.
        if mode == .lines, !r.done, let last = lastLinePhase[key], last.phase == r.phase,
            Date().timeIntervalSince(last.at) < 5
        {
            return
        }
        lastLinePhase[key] = (r.phase, Date())
        log?(line)
        switch mode {
        case .quiet: break
        case .lines: Console.err("[\(elapsed)] \(line)")
        case .live: draw(force: r.done)
        }
    }

    private func clear() {
        guard drawnLines > 0 else { return }
        Console.errRaw("\u{1B}[\(drawnLines)A\u{1B}[J")
        drawnLines = 0
    }

    private func draw(force: Bool) {
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
