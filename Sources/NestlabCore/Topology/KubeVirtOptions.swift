public struct KubeVirtOptions: Sendable, Hashable {
    public enum Emulation: String, Sendable, Hashable, CaseIterable, Codable {
        /// Emulate when the nodes have no `/dev/kvm` (with a warning: not the tuned setup).
        case auto
        case on
        case off
    }

    public var version: String
    public var emulation: Emulation
}
