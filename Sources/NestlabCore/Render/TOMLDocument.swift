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
