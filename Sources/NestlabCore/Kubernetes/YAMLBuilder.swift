import Synchronization
import Yams

/// Small constructors for Yams `Node` values, so manifests are built as data and
/// serialized by Yams (never formatted as strings).
///
/// Strings that a YAML 1.1 or 1.2 reader would take for something else (`true`,
/// `on`, `6443`, `1.0`, `null`, empty) are emitted double-quoted: Kubernetes reads
/// YAML with go-yaml, which still knows the 1.1 booleans.
public enum YAMLBuilder {
    /// Yams' `Tag(_:)` builds a fresh `Constructor` (its whole scalar map) for every node: a third
    /// of rendering a seed. nestlab's tags are explicit and never resolved, so one constructor
    /// serves them all; nothing mutates it after this.
    nonisolated(unsafe) static let constructor = Constructor.default

    /// A tag for an explicit type, sharing ``constructor``.
    public static func tag(_ name: Tag.Name) -> Tag { Tag(name, .default, constructor) }

    /// A string scalar that stays a string when read back.
    public static func str(_ string: String) -> Node {
        let needsQuotes: Bool
        if isPlainWord(string) || string.utf8.contains(0x2F) {
            // A `/` is in none of the resolver's patterns: such a string is always a string.
            needsQuotes = yaml11Words.contains(string.lowercased())
        } else if let known = resolvedCache.withLock({ $0[string] }) {
            needsQuotes = known
        } else {
            let resolved = Resolver.default.resolveTag(of: .scalar(.init(string)))
            needsQuotes = resolved != .str || yaml11Words.contains(string.lowercased())
            resolvedCache.withLock { cache in
                if cache.count < 4096 { cache[string] = needsQuotes }
            }
        }
        return .scalar(.init(string, tag(.str), needsQuotes ? .doubleQuoted : .any))
    }

    /// Whether a string the fast paths cannot judge needs quotes, as Yams' regex resolver said
    /// (the same strings come back for every machine: gateways, DNS servers, fixed texts).
    private static let resolvedCache = Mutex<[String: Bool]>([:])

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
        .scalar(.init(String(value), tag(.int)))
    }

    /// A boolean scalar.
    public static func bool(_ value: Bool) -> Node {
        .scalar(.init(value ? "true" : "false", tag(.bool)))
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
    public static var emptyMap: Node { .mapping(.init([], tag(.map), .flow)) }

    /// Serializes documents, joined with `---` lines, ending with a newline.
    public static func render(_ documents: [Node]) throws -> String {
        try documents.map { try Yams.serialize(node: $0, indent: 2, width: -1) }
            .joined(separator: "---\n")
    }
}
