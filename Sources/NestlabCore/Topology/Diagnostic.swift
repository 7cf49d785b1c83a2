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
