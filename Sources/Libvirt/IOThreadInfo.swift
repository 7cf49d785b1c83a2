/// One I/O thread of a domain and the host CPUs it may run on.
public struct IOThreadInfo: Sendable, Hashable {
    public let id: UInt32
    public let cpus: [Int]
}
