/// Everything nestlab sends to libvirt for one machine, rendered.
public struct RenderedMachine: Sendable {
    public var machine: Machine
    public var seed: Seed
    public var seedVolume: String
    public var spec: MachineSpec
    public var domain: XMLElement
    public var overlay: XMLElement
    public var base: BaseVolumeRef
    /// Files in the seed that hold secrets (never echoed in logs or plans).
    public var hasSecrets: Bool
}
