import Foundation

/// Whether KVM can be used on a host, judged from what libvirt reports.
public enum KVMCheck {
    public struct Result: Sendable {
        public var usable: Bool
        public var reason: String
    }

    /// KVM counts only when libvirt offers kvm domains and the host CPU has vmx or svm
    /// (a `/dev/kvm` without them is what hangs on nested CI machines).
    public static func quick(_ s: HostSession) throws -> Result {
        if s.isTestDriver { return Result(usable: true, reason: "test driver") }
        let caps = try ErrorWithContext.wrap("reading capabilities of host '\(s.host.name)'") {
            try HostCapabilities(xml: try s.connection.capabilities(), of: s.host.name)
        }
        return judge(caps)
    }

    /// The quick check, then, on a local host, a probe guest that must actually run under KVM,
    /// so that `accel: auto` never picks a KVM that hangs guests.
    public static func usable(_ s: HostSession) throws -> Bool {
        let q = try quick(s)
        guard q.usable, s.host.isLocal, !s.isTestDriver else { return q.usable }
        return KVMProbe.run()?.ok ?? q.usable
    }

    static func judge(_ caps: HostCapabilities) -> Result {
        let kvmDomain = caps.guestDomainTypes.contains("kvm")
        // The host CPU's features, listed under <host><cpu>.
        let hostFeatures = Set(caps.cpuFeatures)
        if !kvmDomain {
            return Result(usable: false, reason: "libvirt offers no kvm domains (no /dev/kvm, or QEMU lacks KVM)")
        }
        if !hostFeatures.contains("vmx") && !hostFeatures.contains("svm") {
            return Result(
                usable: false,
                reason:
                    "the host CPU shows neither vmx nor svm, so /dev/kvm cannot run guests reliably (nested KVM off)")
        }
        return Result(
            usable: true, reason: "kvm domains offered and the CPU has \(hostFeatures.contains("vmx") ? "vmx" : "svm")")
    }
}
