/// How a VM is accelerated.
public enum Accel: String, Sendable, Hashable, CaseIterable, Codable {
    /// KVM when it really works on the host, otherwise TCG with a warning.
    case auto
    /// Hardware virtualization; `up` refuses when KVM does not work.
    case kvm
    /// Software emulation (QEMU TCG): slow, but runs anywhere.
    case tcg
}
