public enum CPUVendor: String, Sendable, Hashable, CaseIterable, Codable {
    case intel, amd
    /// The CPU feature that nested virtualization needs in the guest.
    public var virtFeature: String { self == .intel ? "vmx" : "svm" }
}
