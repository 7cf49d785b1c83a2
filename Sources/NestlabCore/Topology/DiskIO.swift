public enum DiskIO: String, Sendable, Hashable, CaseIterable, Codable {
    case `default`, native, threads
    case ioUring = "io_uring"
}
