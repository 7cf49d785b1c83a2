public struct Handoff: Sendable, Hashable {
    public var command: [String]
    public var env: [String: String]
    public var workdir: String?
}
