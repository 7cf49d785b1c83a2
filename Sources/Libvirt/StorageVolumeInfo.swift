/// What `StorageVolume.info()` reports; sizes in bytes.
public struct StorageVolumeInfo: Sendable, Hashable {
    /// A volume's type (`virStorageVolType`).
    public enum VolumeType: Int32, Sendable {
        case file = 0
        case block = 1
        case dir = 2
        case network = 3
        case netdir = 4
        case ploop = 5
    }

    public let type: VolumeType
    /// Logical size.
    public let capacity: UInt64
    /// Bytes allocated on the host.
    public let allocation: UInt64
}
