/// Why a profile cannot be resolved: a cycle of `extends`, or a missing profile in the chain.
public struct ProfileCycle: Error, Sequence {
    public var names: [String]
    /// Set when the chain ends at a profile that does not exist (reported as a dangling reference).
    public var missing: String?

    public init(names: [String], missing: String? = nil) {
        self.names = names
        self.missing = missing
    }

    public func makeIterator() -> IndexingIterator<[String]> { names.makeIterator() }
    public func joined(separator: String) -> String { names.joined(separator: separator) }
}
