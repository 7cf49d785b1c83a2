public struct YAMLPair: Sendable, Hashable {
    public var key: String
    public var value: YAMLValue
}
