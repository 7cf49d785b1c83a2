public struct KataOptions: Sendable, Hashable {
    public enum Hypervisor: String, Sendable, Hashable, CaseIterable, Codable {
        case qemu, clh, fc
        public var runtimeClass: String { "kata-\(rawValue)" }
    }
    public enum SharedFS: String, Sendable, Hashable, CaseIterable, Codable {
        case virtioFS = "virtio-fs"
        case virtio9p = "virtio-9p"
        case none
    }

    public var version: String
    public var hypervisors: [Hypervisor]
    public var defaultVCPUs: Int
    public var defaultMemory: ByteSize
    public var enableHugepages: Bool
    public var sharedFS: SharedFS
    public var virtioFSCache: String
}
