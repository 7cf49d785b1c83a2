/// A Kata hypervisor, one containerd handler and one RuntimeClass each.
public enum KataHypervisor: String, Sendable, Hashable, CaseIterable {
    case qemu
    case cloudHypervisor = "clh"
    case firecracker = "fc"

    /// Handler and RuntimeClass name: `kata-qemu`, `kata-clh`, `kata-fc`.
    public var handler: String { "kata-\(rawValue)" }
    /// The shipped config, `configuration-qemu.toml` etc.
    public var configFile: String { "configuration-\(rawValue).toml" }
    /// The TOML table of its hypervisor section.
    public var sectionName: String {
        switch self {
        case .qemu: return "qemu"
        case .cloudHypervisor: return "clh"
        case .firecracker: return "firecracker"
        }
    }
}
