import Foundation

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
