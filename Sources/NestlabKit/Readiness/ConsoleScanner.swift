import Foundation

/// Splits console bytes into lines and recognizes nestlab's markers.
///
/// Serial consoles interleave `\r\n`, bare `\r`, terminal escapes and login
/// prompts with the lines we want; markers are matched anywhere in a line.
public struct ConsoleScanner: Sendable {
    public private(set) var tail: [String] = []
    /// The complete lines of the last `feed`.
    public private(set) var lastFed: [String] = []
    public let tailLimit: Int
    private var partial = Data()

    public init(tailLimit: Int = 40) { self.tailLimit = tailLimit }

    /// Feeds bytes; returns the events in complete lines.
    public mutating func feed(_ data: Data) -> [ConsoleEvent] {
        partial.append(data)
        lastFed = []
        var events: [ConsoleEvent] = []
        while let nl = partial.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
            let lineData = partial[partial.startIndex..<nl]
            partial = Data(partial[partial.index(after: nl)...])
            let line = Self.clean(String(decoding: lineData, as: UTF8.self))
            if line.isEmpty { continue }
            remember(line)
            lastFed.append(line)
            if let e = Self.event(in: line) { events.append(e) }
        }
        if partial.count > 64 * 1024 { partial = Data(partial.suffix(4096)) }  // a runaway line without newline
        return events
    }

    private mutating func remember(_ line: String) {
        tail.append(line)
        if tail.count > tailLimit { tail.removeFirst(tail.count - tailLimit) }
    }

    /// Strips terminal escape sequences and control characters.
    static func clean(_ s: String) -> String {
        var out = ""
        var it = s.unicodeScalars.makeIterator()
        while let c = it.next() {
            if c == "\u{1B}" {
                // CSI: ESC [ params final-byte(0x40-0x7E); other escapes: skip one char.
                if let n = it.next(), n == "[" {
                    while let x = it.next(), !(0x40...0x7E).contains(x.value) {}
                }
                continue
            }
            if c.value < 0x20 && c != "\t" { continue }
            out.unicodeScalars.append(c)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    static func fields(_ s: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for token in s.split(separator: " ") {
            guard let eq = token.firstIndex(of: "=") else { continue }
            out[String(token[..<eq])] = String(token[token.index(after: eq)...])
        }
        return out
    }

    public static func event(in line: String) -> ConsoleEvent? {
        if let r = line.range(of: "NESTLAB ready ") {
            let f = fields(line[r.upperBound...])
            guard let iid = f["instance"], let status = f["status"] else { return nil }
            return .ready(instance: iid, ok: status == "done", code: Int(f["code"] ?? "") ?? -1)
        }
        if let r = line.range(of: "NESTLAB phase=") {
            let f = fields(line[line.index(r.lowerBound, offsetBy: 8)...])
            guard let name = f["phase"], let status = f["status"] else { return nil }
            let detail = (f["detail"] ?? "").removingPercentEncoding ?? (f["detail"] ?? "")
            return .phase(name: name, status: status, detail: detail)
        }
        if line.contains("Kernel panic") {
            return .kernelPanic(line)
        }
        return nil
    }
}
