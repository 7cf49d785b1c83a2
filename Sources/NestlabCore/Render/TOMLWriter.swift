/// A TOML value of the kinds nestlab emits (containerd, Kata and urunc configs).
///
/// Only what we need: no dates, no floats, no inline tables. Every string goes
/// through ``TOMLWriter/quote(_:)``, the one escaping function.
public enum TOMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case array([TOMLValue])
}

/// One `[table]` with its keys in the order they were added.
public struct TOMLTable: Sendable, Equatable {
    /// The dotted path of the table, one element per key (unquoted; the writer quotes).
    public var path: [String]
    /// Keys and values in emission order.
    public var entries: [(key: String, value: TOMLValue)]

    public init(_ path: [String], _ entries: [(key: String, value: TOMLValue)] = []) {
        self.path = path
        self.entries = entries
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.path == rhs.path && lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// A TOML document: top-level keys, then tables in order.
public struct TOMLDocument: Sendable, Equatable {
    public var header: [String]
    public var root: [(key: String, value: TOMLValue)]
    public var tables: [TOMLTable]

    public init(header: [String] = [], root: [(key: String, value: TOMLValue)] = [], tables: [TOMLTable] = []) {
        self.header = header
        self.root = root
        self.tables = tables
    }

    public static func == (lhs: TOMLDocument, rhs: TOMLDocument) -> Bool {
        lhs.header == rhs.header && lhs.tables == rhs.tables
            && TOMLTable([], lhs.root) == TOMLTable([], rhs.root)
    }
}

/// Renders ``TOMLDocument`` values to TOML 1.0 text.
///
/// Strings are always basic (double-quoted) strings; keys are bare when they
/// match `[A-Za-z0-9_-]+` and quoted otherwise, so plugin names such as
/// `io.containerd.grpc.v1.cri` come out as `"io.containerd.grpc.v1.cri"`.
public enum TOMLWriter {
    /// Renders a whole document, ending with a newline.
    public static func render(_ document: TOMLDocument) -> String {
        var out = ""
        for line in document.header {
            out += line.isEmpty ? "#\n" : "# \(line)\n"
        }
        if !document.header.isEmpty { out += "\n" }
        for entry in document.root {
            out += "\(key(entry.key)) = \(value(entry.value))\n"
        }
        for table in document.tables {
            if !out.isEmpty { out += "\n" }
            out += "[\(table.path.map(key).joined(separator: "."))]\n"
            for entry in table.entries {
                out += "\(key(entry.key)) = \(value(entry.value))\n"
            }
        }
        return out
    }

    /// Renders one key: bare if possible, quoted otherwise.
    public static func key(_ key: String) -> String {
        let bare =
            !key.isEmpty
            && key.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
                default: return false
                }
            }
        return bare ? key : quote(key)
    }

    /// Renders one value.
    public static func value(_ value: TOMLValue) -> String {
        switch value {
        case .string(let string): return quote(string)
        case .integer(let integer): return String(integer)
        case .boolean(let boolean): return boolean ? "true" : "false"
        case .array(let items): return "[" + items.map { Self.value($0) }.joined(separator: ", ") + "]"
        }
    }

    /// Quotes a string as a TOML basic string, escaping what TOML 1.0 requires.
    public static func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}", "\u{7F}":
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
