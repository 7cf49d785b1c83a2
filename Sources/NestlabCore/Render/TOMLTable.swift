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
