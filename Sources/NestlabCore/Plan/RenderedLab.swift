/// The whole lab, rendered: what `plan --render` writes and what `up` sends.
public struct RenderedLab: Sendable {
    public var lab: Lab
    public var networks: [(network: LabNetwork, xml: XMLElement?)]
    public var machines: [RenderedMachine]

    public func machine(named n: String) -> RenderedMachine? { machines.first { $0.machine.name == n } }
}
