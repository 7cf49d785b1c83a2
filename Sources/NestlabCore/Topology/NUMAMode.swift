public enum NUMAMode: String, Sendable, Hashable, CaseIterable, Codable {
    case none, strict, preferred, interleave
}
