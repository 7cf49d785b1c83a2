public enum CPUMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// libvirt's default CPU model (no `<cpu>` element).
    case `default`
    case hostPassthrough = "host-passthrough"
    case hostModel = "host-model"
    /// QEMU's `max` model; the one that works under TCG.
    case maximum
}
