/// The node scripts' parameters: a file of `KEY='value'` lines that bash sources.
///
/// Values are single-quoted, the one quoting that bash never interprets inside:
/// `'` becomes `'\''` and everything else (spaces, `$`, backticks, `\`, newlines)
/// stays literal.
public struct EnvFile: Sendable, Hashable {
    public private(set) var entries: [(key: String, value: String)] = []

    public init() {}

    public static func == (a: EnvFile, b: EnvFile) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0 == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    /// Adds or replaces `key`.
    public mutating func set(_ key: String, _ value: String) throws {
        guard Self.isIdentifier(key) else { throw KubeError.invalidEnvKey(key) }
        guard !value.unicodeScalars.contains("\u{0}") else { throw KubeError.invalidEnvValue(key: key) }
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key, value))
        }
    }

    /// Adds `key` as `1` or `0`.
    public mutating func set(_ key: String, _ flag: Bool) throws {
        try set(key, flag ? "1" : "0")
    }

    public subscript(key: String) -> String? {
        entries.first(where: { $0.key == key })?.value
    }

    /// The file text.
    public func render() -> String {
        var out = "# nestlab node parameters; sourced by the node scripts.\n"
        for entry in entries { out += "\(entry.key)=\(Self.quote(entry.value))\n" }
        return out
    }

    /// Quotes one value for bash: `it's` -> `'it'\''s'`.
    public static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, ("A"..."Z").contains(first) || first == "_" else { return false }
        return key.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
