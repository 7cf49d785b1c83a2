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
