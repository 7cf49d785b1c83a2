public enum HugePages: String, Sendable, Hashable, CaseIterable, Codable {
    case none
    case size2M = "2M"
    case size1G = "1G"

    public var pageSize: ByteSize? {
        switch self {
        case .none: return nil
        case .size2M: return .mib(2)
        case .size1G: return .gib(1)
        }
    }
}
