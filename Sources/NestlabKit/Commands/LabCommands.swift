import Foundation
import NestlabCore

/// How a `FILE|LAB` argument was understood.
public struct LabTarget: Sendable {
    public var lab: String
    /// The topology file, when one was given or recorded.
    public var file: String?
    public var hosts: [LabHost]
    /// The topology, parsed once here, when there is a file.
    public var topology: Topology?

    /// A path to an existing file is a topology; anything else is a lab name whose
    /// topology nestlab recorded at `up` (or, failing that, the default local host).
    public static func resolve(
        _ arg: String, store: StateStore, connect: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> LabTarget {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: arg, isDirectory: &isDir), !isDir.boolValue {
            let (t, _) = try TopologyParser(environment: environment).load(path: arg)
            return LabTarget(lab: t.name, file: arg, hosts: hosts(t, connect), topology: t)
        }
        if arg.hasSuffix(".yaml") || arg.hasSuffix(".yml") || arg.contains("/") {
            throw UsageError("no topology file at \(arg); give an existing topology file or a lab name")
        }
        guard arg.range(of: #"^[a-z][a-z0-9-]{0,29}$"#, options: .regularExpression) != nil else {
            throw UsageError("'\(arg)' is neither a topology file nor a lab name (lower-case letters, digits and '-')")
        }
        let state = store.lab(arg)
        let record = try LabRecord.load(state)
        if let src = record?.topologyPath, FileManager.default.fileExists(atPath: src),
            let (t, _) = try? TopologyParser(environment: environment).load(path: src), t.name == arg
        {
            return LabTarget(lab: arg, file: src, hosts: hosts(t, connect), topology: t)
        }
        // The topology file is gone or changed: the hosts `up` last connected to still know the
        // lab's objects by their tags (so `down LAB` cleans every host of a multi-host lab).
        if connect == nil, let recorded = record?.hosts, !recorded.isEmpty {
            return LabTarget(
                lab: arg, file: nil, hosts: recorded.map { LabHost(name: $0.name, libvirt: $0.libvirt) })
        }
        let uri = connect ?? LabHost.defaultURI
        return LabTarget(lab: arg, file: nil, hosts: [LabHost(name: LabHost.defaultName, libvirt: uri)])
    }

    static func hosts(_ t: Topology, _ connect: String?) -> [LabHost] {
        guard let connect else { return t.hosts }
        return t.hosts.map {
            var h = $0
            h.libvirt = connect
            return h
        }
    }
}

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

/// Writes a rendered lab to a folder: the files exactly as nestlab sends them.
public enum RenderWriter {
    public static func write(_ r: RenderedLab, to dir: URL, hosts: [LabHost]) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        for (n, xml) in r.networks {
            guard let xml else { continue }
            try xml.render().write(
                to: dir.appendingPathComponent("network-\(n.libvirtName).xml"), atomically: true, encoding: .utf8)
        }
        for h in hosts where r.machines.contains(where: { $0.machine.host.name == h.name }) {
            let lab = r.lab.name
            try StorageRenderer.pool(
                name: Lab.poolName(lab: lab), path: Lab.poolPath(lab: lab, host: h), uuid: Identity.uuid("pool", lab)
            )
            .render().write(
                to: dir.appendingPathComponent("pool-\(h.name)-\(Lab.poolName(lab: lab)).xml"), atomically: true,
                encoding: .utf8)
            try StorageRenderer.pool(
                name: Lab.imagePoolName, path: Lab.imagePoolPath(host: h), uuid: Identity.uuid("pool", "images")
            )
            .render().write(
                to: dir.appendingPathComponent("pool-\(h.name)-\(Lab.imagePoolName).xml"), atomically: true,
                encoding: .utf8)
        }
        for m in r.machines {
            let md = dir.appendingPathComponent(m.machine.name)
            try fm.createDirectory(at: md, withIntermediateDirectories: true)
            try SecretFile.write(
                m.domain.render(), to: md.appendingPathComponent("domain.xml"), mode: 0o644, durable: false)
            try SecretFile.write(
                m.overlay.render(), to: md.appendingPathComponent("overlay.xml"), mode: 0o644, durable: false)
            // The seed may carry cluster secrets (CA key, token): written 0600 like every secret;
            // not synced to disk, since a render can be made again.
            try SecretFile.write(m.seed.userData, to: md.appendingPathComponent("user-data"), durable: false)
            try SecretFile.write(m.seed.metaData, to: md.appendingPathComponent("meta-data"), durable: false)
            try SecretFile.write(m.seed.networkConfig, to: md.appendingPathComponent("network-config"), durable: false)
            let iso = try NoCloudSeed(
                userData: m.seed.userData, metaData: m.seed.metaData, networkConfig: m.seed.networkConfig
            ).image()
            try SecretFile.write(iso.bytes, to: md.appendingPathComponent(m.seedVolume), durable: false)
        }
    }
}
