/// What `StoragePool.info()` reports; sizes in bytes.
public struct StoragePoolInfo: Sendable, Hashable {
    /// A pool's state (`virStoragePoolState`).
    public enum State: Int32, Sendable {
        case inactive = 0
        case building = 1
        case running = 2
        case degraded = 3
        case inaccessible = 4
    }

    public let state: State
    public let capacity: UInt64
    public let allocation: UInt64
    public let available: UInt64
}
