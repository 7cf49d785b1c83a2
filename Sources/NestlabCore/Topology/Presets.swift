import Foundation

/// Tuning presets that ship with nestlab.
///
/// `paper-default` is the untuned baseline of the paper: libvirt's defaults.
/// `paper-mitigated` applies every VM-level mitigation (see docs/tuning.md).
public enum Presets {
    public static let defaultProfileName = "paper-default"

    public static var profiles: [Profile] {
        let base = Profile(name: "paper-default")  // every knob at libvirt's default

        var m = Profile(name: "paper-mitigated")
        m.cpuMode = .hostPassthrough
        m.nested = true
        m.pinning = .auto
        m.emulatorPin = .auto
        m.iothreadPin = .auto
        m.hugepages = .size1G
        m.numa = .strict
        m.diskCache = DiskCache.none
        m.diskIO = .native
        m.iothread = true
        m.netQueues = .auto
        m.vhost = true

        return [base, m]
    }

    public static func profile(named n: String) -> Profile? { profiles.first { $0.name == n } }
}
