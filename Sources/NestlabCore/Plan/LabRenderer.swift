import Foundation

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

/// The whole lab, rendered: what `plan --render` writes and what `up` sends.
public struct RenderedLab: Sendable {
    public var lab: Lab
    public var networks: [(network: LabNetwork, xml: XMLElement?)]
    public var machines: [RenderedMachine]

    public func machine(named n: String) -> RenderedMachine? { machines.first { $0.machine.name == n } }
}

/// What a machine's guest gets beyond the base seed: node scripts, cluster material.
public struct GuestPayload: Sendable {
    public var files: [GuestFile]
    public var commands: [[String]]

    public init(files: [GuestFile] = [], commands: [[String]] = []) {
        self.files = files
        self.commands = commands
    }

    public static let empty = GuestPayload()
}

public enum LabRenderer {
    /// Renders every network, seed, overlay and domain of a lab.
    ///
    /// - Parameters:
    ///   - bases: host name → image name → the base image on that host.
    ///   - sshKeys: public keys authorized for the `nestlab` user in every guest.
    ///   - hostKeys: machine → the SSH host key nestlab made for it (none: the guest makes one).
    ///   - payload: per machine, the files and commands cloud-init adds (cluster bootstrap).
    public static func render(
        lab: Lab, bases: [String: [String: BaseVolumeRef]], sshKeys: [String],
        hostKeys: [String: SSHHostKeyMaterial] = [:],
        payload: (Machine) -> GuestPayload = { _ in .empty }
    ) throws -> RenderedLab {
        var nets: [(LabNetwork, XMLElement?)] = []
        for n in lab.networks {
            nets.append((n, NetworkRenderer.render(n, machines: lab.machines)))
        }
        var out: [RenderedMachine] = []
        out.reserveCapacity(lab.machines.count)
        for m in lab.machines {
            guard let base = bases[m.host.name]?[m.image.name] else {
                throw RenderError.missingBase(machine: m.name, image: m.image.name, host: m.host.name)
            }
            let extra = payload(m)
            let hostKey = hostKeys[m.name]
            let seed = CloudInitRenderer.render(
                .init(
                    machine: m, lab: lab.name, sshAuthorizedKeys: sshKeys,
                    files: extra.files, commands: extra.commands, hostKey: hostKey))
            let seedVolume = seed.volumeName(for: m, lab: lab.name)
            let spec = MachineSpec.of(m, base: base, seedDigest: seed.digest)
            let domain = DomainRenderer.render(
                .init(machine: m, lab: lab.name, base: base, seedVolume: seedVolume, spec: spec))
            let overlay = StorageRenderer.overlay(
                name: m.overlayVolume, capacity: m.disk, backing: base.disk, backingFormat: base.format)
            out.append(
                RenderedMachine(
                    machine: m, seed: seed, seedVolume: seedVolume, spec: spec, domain: domain,
                    overlay: overlay, base: base, hasSecrets: hostKey != nil || extra.files.contains { $0.secret }))
        }
        return RenderedLab(lab: lab, networks: nets, machines: out)
    }
}

public enum RenderError: Error, CustomStringConvertible {
    case missingBase(machine: String, image: String, host: String)

    public var description: String {
        switch self {
        case .missingBase(let m, let i, let h):
            return "no base image '\(i)' resolved on host '\(h)' for machine '\(m)'"
        }
    }
}
