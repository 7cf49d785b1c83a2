import Yams

/// Small constructors for Yams `Node` values, so manifests are built as data and
/// serialized by Yams (never formatted as strings).
///
/// Strings that a YAML 1.1 or 1.2 reader would take for something else (`true`,
/// `on`, `6443`, `1.0`, `null`, empty) are emitted double-quoted: Kubernetes reads
/// YAML with go-yaml, which still knows the 1.1 booleans.
public enum YAMLBuilder {
    /// A string scalar that stays a string when read back.
    public static func str(_ string: String) -> Node {
        let needsQuotes: Bool
        if isPlainWord(string) {
            needsQuotes = yaml11Words.contains(string.lowercased())
        } else {
            let resolved = Resolver.default.resolveTag(of: .scalar(.init(string)))
            needsQuotes = resolved != .str || yaml11Words.contains(string.lowercased())
        }
        return .scalar(.init(string, Tag(.str), needsQuotes ? .doubleQuoted : .any))
    }

    /// Words that YAML 1.1 readers take for booleans or null, whatever their case.
    static let yaml11Words: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]

    /// A fast path around Yams' regex resolver (a third of `plan`'s time for 1,000 machines):
    /// a string of letters, digits, `_`, `.`, `/` and `-` that starts with a letter, `_` or `/`
    /// can only resolve to something other than a string if it is one of ``yaml11Words``
    /// (ints, floats and timestamps start with a digit, sign or dot; null `~`, merge `<<` and
    /// value `=` are not in the set).
    static func isPlainWord(_ s: String) -> Bool {
        guard let first = s.utf8.first else { return false }
        func letter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
        guard letter(first) || first == 0x5F || first == 0x2F else { return false }
        for b in s.utf8
        where !(letter(b) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2E || b == 0x2F || b == 0x2D) {
            return false
        }
        return true
    }

    /// An integer scalar.
    public static func int(_ value: Int) -> Node {
        .scalar(.init(String(value), Tag(.int)))
    }

    /// A boolean scalar.
    public static func bool(_ value: Bool) -> Node {
        .scalar(.init(value ? "true" : "false", Tag(.bool)))
    }

    /// An ordered mapping; pairs keep their order in the output.
    public static func map(_ pairs: [(String, Node)]) -> Node {
        .mapping(.init(pairs.map { (str($0.0), $0.1) }))
    }

    /// A sequence.
    public static func seq(_ items: [Node]) -> Node {
        .sequence(.init(items))
    }

    /// A sequence of strings.
    public static func strs(_ items: [String]) -> Node {
        seq(items.map(str))
    }

    /// An empty mapping, `{}`.
    public static var emptyMap: Node { .mapping(.init([], Tag(.map), .flow)) }

    /// Serializes documents, joined with `---` lines, ending with a newline.
    public static func render(_ documents: [Node]) throws -> String {
        try documents.map { try Yams.serialize(node: $0, indent: 2, width: -1) }
            .joined(separator: "---\n")
    }
}
