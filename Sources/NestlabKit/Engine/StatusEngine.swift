import Foundation
import Libvirt
import NestlabCore

public enum StatusEngine {
    public static func run(lab: String, sessions: [HostSession], rendered: RenderedLab?) async throws -> StatusReport {
        var rows: [StatusReport.Row] = []
        for s in sessions {
            rows += try await Blocking.run { try rowsOn(s, lab: lab, rendered: rendered) }
        }
        rows.sort { ($0.host, $0.machine) < ($1.host, $1.machine) }
        let present = Set(rows.map(\.machine))
        let missing = rendered?.machines.map(\.machine.name).filter { !present.contains($0) } ?? []
        return StatusReport(lab: lab, machines: rows, missing: missing)
    }

    static func rowsOn(_ s: HostSession, lab: String, rendered: RenderedLab?) throws -> [StatusReport.Row] {
        var rows: [StatusReport.Row] = []
        for (d, meta) in try s.labDomains(lab) {
            let domain = try DomainDescription(xml: try d.xmlDesc(), of: d.name)
            let active = try d.isActive()
            let (state, _) = try d.state()
            let accel = domain.type == "kvm" ? "kvm" : "tcg"
            let vcpus = domain.vcpus ?? 0
            let memKiB = domain.memoryKiB ?? 0
            let page = domain.hugepageKiB
            let pins = try d.vcpuPinInfo()
            let pinRows = (0..<max(vcpus, pins.count)).map { pins[$0] ?? [] }
            let emu = try? d.emulatorPinInfo()
            var addresses: [String] = []
            var source = "none"
            if active {
                for (src, label) in [(Domain.AddressSource.agent, "agent"), (.lease, "lease")] {
                    if let ifs = try? d.interfaceAddresses(source: src) {
                        let ips = ifs.filter { $0.name != "lo" }.flatMap(\.addresses).filter { $0.family == .ipv4 }.map(
                            \.address)
                        if !ips.isEmpty {
                            addresses = ips
                            source = label
                            break
                        }
                    }
                }
            }
            if addresses.isEmpty {
                // The addresses nestlab assigned (static, in the guest's network-config).
                addresses = meta.spec.fields.filter { $0.0.hasPrefix("nic") }.compactMap {
                    $0.1.split(separator: " ").last.map(String.init)
                }
                source = addresses.isEmpty ? "none" : "assigned"
            }
            var drift: [String]?
            if let rm = rendered?.machine(named: meta.machine), rm.spec.digest != meta.specDigest {
                drift = rm.spec.differences(from: meta.spec)
            }
            let expected = rendered?.machine(named: meta.machine)?.seed.instanceID
            let ready = active && meta.readyInstance != nil && (expected == nil || meta.readyInstance == expected)
            rows.append(
                StatusReport.Row(
                    machine: meta.machine, host: s.host.name, domain: d.name, cluster: meta.cluster, state: "\(state)",
                    accel: accel,
                    vcpus: vcpus, memoryMiB: memKiB / 1024, vcpuPins: pinRows, emulatorPin: emu, hugepageKiB: page,
                    addresses: addresses, addressSource: source, ready: ready, instance: meta.readyInstance,
                    drift: drift))
        }
        return rows
    }
}
