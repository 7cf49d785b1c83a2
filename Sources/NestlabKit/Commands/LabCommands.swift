import Foundation
import NestlabCore

public enum LabCommands {
    // MARK: plan

    public struct PlanJSON: Codable, Sendable {
        public struct Machine: Codable, Sendable {
            var name: String, host: String, action: String, drift: [String]?, domain: String, overlay: String,
                seed: String
            var vcpus: Int, memory: String, accel: String, addresses: [String], vcpuPins: [String]
        }
        var lab: String
        var offline: Bool
        var noop: Bool
        var networks: [[String: String]]
        var images: [String: [String]]
        var machines: [Machine]
        var rendered: String?
        var warnings: [DiagnosticJSON]
    }

    /// `nestlab plan FILE [--render DIR]`.
    public static func plan(file: String, renderDir: String?, offline: Bool, format: OutputFormat) throws {
        var opts = LabSession.Options()
        opts.offline = offline
        opts.allowUnfetched = true
        // A dry run: no key, token or CA is written (with --render, the rendered seeds that
        // carry them are 0600 in the output folder).
        opts.persistSecrets = false
        let s = try LabSession.open(file: file, options: opts)
        let plan: LabPlan? = offline ? nil : try Planner.plan(s)
        if let dir = renderDir {
            try RenderWriter.write(s.rendered, to: URL(fileURLWithPath: dir), hosts: s.topology.hosts)
        }

        switch format {
        case .json:
            Console.out(try JSONOutput.string(planJSON(s, plan, offline: offline, renderDir: renderDir)))
        case .text:
            for w in s.warnings { Console.err(w.description) }
            var out =
                "lab \(s.lab.name)" + (offline ? " (offline: host facts assumed, libvirt not consulted)" : "") + "\n"
            for h in s.topology.hosts where s.lab.machines.contains(where: { $0.host.name == h.name }) {
                out += planText(host: h, s, plan)
            }
            if let plan {
                out +=
                    plan.isNoop
                    ? "no changes: libvirt already matches the topology\n"
                    : "legend: + create, = unchanged, > start, ~ differs, ! conflict\n"
            }
            if let renderDir { out += "rendered every file to \(renderDir)\n" }
            Console.out(out)
        }
    }

    private static func planJSON(_ s: LabSession, _ plan: LabPlan?, offline: Bool, renderDir: String?) -> PlanJSON {
        let machines = s.rendered.machines.map { rm -> PlanJSON.Machine in
            let mp = plan?.machines.first { $0.rendered.machine.name == rm.machine.name }
            var drift: [String]?
            if case .drift(let d)? = mp?.action { drift = d }
            return PlanJSON.Machine(
                name: rm.machine.name, host: rm.machine.host.name, action: mp?.action.label ?? "create",
                drift: drift, domain: rm.machine.domainName, overlay: rm.machine.overlayVolume, seed: rm.seedVolume,
                vcpus: rm.machine.vcpus, memory: rm.machine.memory.description, accel: rm.machine.accel.rawValue,
                addresses: rm.machine.nics.map { "\($0.network.name)=\($0.address)" },
                vcpuPins: rm.machine.vcpuPins.map(\.description))
        }
        let nets = s.rendered.networks.filter { $0.xml != nil }.map { n in
            [
                "name": n.network.libvirtName, "cidr": n.network.network.cidr.description,
                "mode": n.network.network.mode.rawValue,
                "action": plan.map { p in
                    p.networks.contains { $0.network.libvirtName == n.network.libvirtName && $0.exists }
                        ? "exists" : "create"
                } ?? "create",
            ]
        }
        return PlanJSON(
            lab: s.lab.name, offline: offline, noop: plan?.isNoop ?? false, networks: nets,
            images: plan?.missingImages ?? [:], machines: machines, rendered: renderDir,
            warnings: s.warnings.map(DiagnosticJSON.init))
    }

    /// The text plan of one host: its pool, networks, images and machines.
    private static func planText(host h: LabHost, _ s: LabSession, _ plan: LabPlan?) -> String {
        var out = "host \(h.name) (\(h.libvirt)):\n"
        out += "  pool \(Lab.poolName(lab: s.lab.name)) at \(Lab.poolPath(lab: s.lab.name, host: h))\n"
        for (n, xml) in s.rendered.networks where xml != nil && n.hosts.contains(h.name) {
            let exists =
                plan?.networks.contains {
                    $0.network.libvirtName == n.libvirtName && $0.host == h.name && $0.exists
                } ?? false
            out +=
                "  \(exists ? "=" : "+") network \(n.libvirtName) \(n.network.mode.rawValue) \(n.network.cidr)\n"
        }
        let missing = Set(plan?.missingImages[h.name] ?? [])
        var shown = Set<String>()
        for rm in s.rendered.machines where rm.machine.host.name == h.name {
            for v in [rm.base.disk.name, rm.base.kernel?.name, rm.base.initrd?.name].compactMap({ $0 })
            where shown.insert(v).inserted {
                out += "  \(plan == nil || missing.contains(v) ? "+" : "=") image \(v)\n"
            }
        }
        for rm in s.rendered.machines where rm.machine.host.name == h.name {
            out += planText(machine: rm, plan?.machines.first { $0.rendered.machine.name == rm.machine.name })
        }
        return out
    }

    private static func planText(machine rm: RenderedMachine, _ mp: MachinePlan?) -> String {
        let m = rm.machine
        let mark: String
        switch mp?.action ?? .create {
        case .create: mark = "+"
        case .unchanged(let running): mark = running ? "=" : ">"
        case .drift: mark = "~"
        case .foreign: mark = "!"
        }
        let pins =
            m.vcpuPins.isEmpty
            ? "floating" : "pinned " + m.vcpuPins.map(\.description).joined(separator: ",")
        var out = "  \(mark) machine \(m.name): \(m.vcpus) vCPU (\(pins)), \(m.memory)"
        out += m.profile.hugepages == .none ? "" : " on \(m.profile.hugepages.rawValue) pages"
        out +=
            ", \(m.accel.rawValue), "
            + m.nics.map { "\($0.network.name) \($0.address)" }.joined(separator: ", ") + "\n"
        out +=
            "      domain \(m.domainName), overlay \(m.overlayVolume) (\(m.disk)), seed \(rm.seedVolume)\n"
        if case .drift(let d)? = mp?.action {
            out += "      differs: " + d.joined(separator: ", ") + " (up --recreate applies it)\n"
        }
        if case .foreign? = mp?.action {
            out += "      a domain named \(m.domainName) exists and is not this lab's\n"
        }
        return out
    }
}
