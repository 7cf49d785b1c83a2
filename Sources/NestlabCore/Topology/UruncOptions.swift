public struct UruncOptions: Sendable, Hashable {
    public enum Monitor: String, Sendable, Hashable, CaseIterable, Codable {
        case qemu, firecracker
        case solo5Hvt = "solo5-hvt"
        case solo5Spt = "solo5-spt"
    }

    public var version: String
    public var monitors: [Monitor]
    public var thinPoolSize: ByteSize
}
