/// KubeVirt, operator plus CR.
public struct KubeVirtSpec: Sendable, Hashable {
    /// For example `v1.6.0`.
    public var version: String
    /// The release's `kubevirt-operator.yaml`.
    public var operatorManifest: Artifact
    /// `spec.configuration.developerConfiguration.useEmulation`; the lead sets it when the
    /// nodes have no /dev/kvm (and warns that this is not the tuned configuration).
    public var useEmulation: Bool
    /// containerDisk image of the smoke VMI.
    public var smokeDiskImage: String?

    public init(
        version: String, operatorManifest: Artifact, useEmulation: Bool = false,
        smokeDiskImage: String? = nil
    ) {
        self.version = version
        self.operatorManifest = operatorManifest
        self.useEmulation = useEmulation
        self.smokeDiskImage = smokeDiskImage
    }

    /// `quay.io/kubevirt/cirros-container-disk-demo:<version>` unless set.
    public var effectiveSmokeDiskImage: String {
        smokeDiskImage ?? "quay.io/kubevirt/cirros-container-disk-demo:\(version)"
    }
}
