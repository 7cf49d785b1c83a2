import Foundation

/// A position in a topology file.
public struct FileLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: FileLocation, b: FileLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One finding about a topology: an error (the file cannot be used) or a warning
/// (it works, but is probably not what was meant).
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    public var severity: Severity
    public var location: FileLocation?
    /// The key path the finding is about, e.g. `machines[1].memory`.
    public var path: String
    /// What is wrong.
    public var message: String
    /// What would be valid.
    public var hint: String?

    public init(_ severity: Severity, at location: FileLocation?, path: String, _ message: String, hint: String? = nil)
    {
        self.severity = severity
        self.location = location
        self.path = path
        self.message = message
        self.hint = hint
    }

    /// `file:line:col: error: <key path>: <what is wrong>; <what would be valid>`
    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        s += "\(severity.rawValue): "
        if !path.isEmpty { s += "\(path): " }
        s += message
        if let hint { s += "; \(hint)" }
        return s
    }
}

/// Collects every finding of a run, so that a user sees all problems at once.
public struct Diagnostics: Sendable {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }

    public mutating func error(_ path: String, at location: FileLocation?, _ message: String, hint: String? = nil) {
        items.append(Diagnostic(.error, at: location, path: path, message, hint: hint))
    }

    public mutating func warning(_ path: String, at location: FileLocation?, _ message: String, hint: String? = nil) {
        items.append(Diagnostic(.warning, at: location, path: path, message, hint: hint))
    }

    public mutating func add(_ diagnostic: Diagnostic) {
        items.append(diagnostic)
    }

    public mutating func append(contentsOf other: Diagnostics) {
        items.append(contentsOf: other.items)
    }

    /// Findings in file order; findings without a location last, in the order found.
    public var sorted: [Diagnostic] {
        items.enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case (let la?, let lb?): return la == lb ? a.offset < b.offset : la < lb
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }
}

/// A value as a message shows it: at most 64 characters, so that a huge value does not make
/// a huge message.
func shown(_ s: String) -> String {
    s.count <= 64 ? s : s.prefix(64) + "…"
}

/// Thrown when a topology has errors; carries every finding.
public struct TopologyError: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Suggests the closest candidate to a misspelt word ("did you mean").
///
/// The edit distance is quadratic in the lengths it compares, so the work is bounded: a word
/// or candidate longer than `longestWord` gets no suggestion, at most `mostCandidates` are
/// compared, and a candidate whose length alone puts it out of reach is skipped (issue 21: a
/// 100,000-character unknown key compared against every valid key took minutes).
enum Spelling {
    static let longestWord = 64
    static let mostCandidates = 256

    static func closest(to word: String, in candidates: [String]) -> String? {
        guard word.utf8.count <= longestWord * 4 else { return nil }
        let w = Array(word.lowercased())
        guard w.count <= longestWord else { return nil }
        var best: (String, Int)?
        for c in candidates.prefix(mostCandidates) where c.utf8.count <= longestWord * 4 {
            let cc = Array(c.lowercased())
            guard cc.count <= longestWord, abs(cc.count - w.count) <= limit(w.count, cc.count) else { continue }
            let d = distance(w, cc)
            if best == nil || d < best!.1 { best = (c, d) }
        }
        guard let (candidate, d) = best else { return nil }
        return d <= limit(w.count, candidate.count) ? candidate : nil
    }

    /// The largest distance still worth suggesting.
    static func limit(_ a: Int, _ b: Int) -> Int { max(2, min(a, b) / 3) }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
