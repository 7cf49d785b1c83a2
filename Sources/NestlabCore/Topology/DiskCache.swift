public enum DiskCache: String, Sendable, Hashable, CaseIterable, Codable {
    case `default`, none, writethrough, writeback, directsync, unsafe
}
