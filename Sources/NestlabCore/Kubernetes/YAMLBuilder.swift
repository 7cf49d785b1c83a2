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
        let resolved = Resolver.default.resolveTag(of: .scalar(.init(string)))
        let yaml11Bool: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false"]
        let needsQuotes = resolved != .str || yaml11Bool.contains(string.lowercased())
        return .scalar(.init(string, Tag(.str), needsQuotes ? .doubleQuoted : .any))
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
