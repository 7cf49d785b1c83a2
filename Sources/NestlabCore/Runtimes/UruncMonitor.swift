/// A monitor (VMM or sandbox) that urunc can start.
public enum UruncMonitor: Sendable, Hashable {
    /// qemu-system-x86 from the distribution. Needs KVM.
    case qemu
    /// Firecracker release tarball `firecracker-vX-x86_64.tgz`; `member` is the path of the
    /// binary inside (`release-vX-x86_64/firecracker-vX-x86_64`). Needs KVM.
    case firecracker(Artifact, member: String)
    /// solo5-hvt binary. Needs KVM.
    case solo5HVT(Artifact)
    /// solo5-spt binary (seccomp sandbox; no KVM).
    case solo5SPT(Artifact)

    public var name: String {
        switch self {
        case .qemu: return "qemu"
        case .firecracker: return "firecracker"
        case .solo5HVT: return "solo5-hvt"
        case .solo5SPT: return "solo5-spt"
        }
    }
    public var needsKVM: Bool {
        if case .solo5SPT = self { return false }
        return true
    }
}
