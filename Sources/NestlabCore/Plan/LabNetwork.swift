/// A lab network as libvirt will hold it.
public struct LabNetwork: Sendable, Hashable {
    public var network: Network
    public var libvirtName: String
    public var bridgeName: String
    public var uuid: String
    public var hosts: [String]  // host names it is needed on
}
