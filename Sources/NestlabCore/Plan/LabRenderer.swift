import Foundation

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
        // What each machine needs, gathered in order; then the machines are rendered side by side
        // (pure work: the seed's YAML, digests, the domain XML), each into its own slot.
        let inputs: [MachineInput] = try lab.machines.map { m in
            guard let base = bases[m.host.name]?[m.image.name] else {
                throw RenderError.missingBase(machine: m.name, image: m.image.name, host: m.host.name)
            }
            return MachineInput(machine: m, base: base, payload: payload(m), hostKey: hostKeys[m.name])
        }
        let name = lab.name
        let memo = WriteFilesMemo()
        let out = try concurrentMap(inputs) { machine($0, lab: name, sshKeys: sshKeys, memo: memo) }
        return RenderedLab(lab: lab, networks: nets, machines: out)
    }

    struct MachineInput: Sendable {
        var machine: Machine
        var base: BaseVolumeRef
        var payload: GuestPayload
        var hostKey: SSHHostKeyMaterial?
    }

    static func machine(_ input: MachineInput, lab: String, sshKeys: [String], memo: WriteFilesMemo? = nil)
        -> RenderedMachine
    {
        let (m, base, extra) = (input.machine, input.base, input.payload)
        let seed = CloudInitRenderer.render(
            .init(
                machine: m, lab: lab, sshAuthorizedKeys: sshKeys,
                files: extra.files, commands: extra.commands, hostKey: input.hostKey), memo: memo)
        let seedVolume = seed.volumeName(for: m, lab: lab)
        let spec = MachineSpec.of(m, base: base, seedDigest: seed.digest)
        let domain = DomainRenderer.render(
            .init(machine: m, lab: lab, base: base, seedVolume: seedVolume, spec: spec))
        let overlay = StorageRenderer.overlay(
            name: m.overlayVolume, capacity: m.disk, backing: base.disk, backingFormat: base.format)
        return RenderedMachine(
            machine: m, seed: seed, seedVolume: seedVolume, spec: spec, domain: domain,
            overlay: overlay, base: base, hasSecrets: input.hostKey != nil || extra.files.contains { $0.secret })
    }
}
