import Foundation
import NestlabCore

/// Each host's storage pools, networks and base images (in that order on a host), all hosts at
/// once: what the machines of that host share.
struct PrepareHosts: UpStep {
    let name = "prepare hosts"

    func run(_ context: UpContext) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for session in context.s.sessions.values {
                group.addTask { try await prepare(session, context) }
            }
            try await group.waitForAll()
        }
    }

    private func prepare(_ session: HostSession, _ context: UpContext) async throws {
        try context.checkInterrupt()
        let s = context.s
        let host = session.host
        let hostName = host.name
        context.progress.update(hostName, "storage pools", detail: host.libvirt)
        try await Blocking.run {
            let images = try session.ensurePool(
                name: Lab.imagePoolName, path: Lab.imagePoolPath(host: host), uuid: Identity.uuid("pool", "images"))
            try session.ensurePool(
                name: Lab.poolName(lab: s.lab.name), path: Lab.poolPath(lab: s.lab.name, host: host),
                uuid: Identity.uuid("pool", s.lab.name))
            // What libvirt holds for the folder must be what is on disk before volumes are checked.
            try? images.refresh()
        }
        for (net, xml) in s.rendered.networks where net.hosts.contains(hostName) {
            guard let xml else { continue }
            try context.checkInterrupt()
            context.progress.update(hostName, "network \(net.libvirtName)")
            let r = try await Blocking.run { try session.ensureNetwork(net, xml: xml) }
            if r == .created {
                context.ledger.withLock {
                    $0.networksCreated.append("\(hostName):\(net.libvirtName)")
                    $0.created += 1
                }
            }
        }
        try await placeImages(session, context)
        context.progress.finish(hostName, "ready for machines")
    }

    /// The base images, kernels and initrds of the host's machines, each placed once and verified.
    private func placeImages(_ session: HostSession, _ context: UpContext) async throws {
        let s = context.s
        let progress = context.progress
        let hostName = session.host.name
        let needed = s.rendered.machines.filter { $0.machine.host.name == hostName }
        var done = Set<String>()
        for rm in needed {
            guard let local = s.images[rm.machine.image.name] else { continue }
            var files: [(VolumeRef, LocalFile)] = [(rm.base.disk, local.disk)]
            if let k = rm.base.kernel, let lk = local.kernel { files.append((k, lk)) }
            if let i = rm.base.initrd, let li = local.initrd { files.append((i, li)) }
            for (ref, file) in files where done.insert(ref.name).inserted {
                try context.checkInterrupt()
                let poolPath = Lab.imagePoolPath(host: session.host)
                progress.update(hostName, "image \(ref.name)")
                let r = try await Blocking.run {
                    let pool = try session.connection.storagePool(named: Lab.imagePoolName)
                    let content = try VolumeContent(file: file.path)
                    return try session.ensureVolume(
                        pool: pool, poolPath: poolPath, name: ref.name, content: content, mode: "0644"
                    ) { sent, total in
                        let pct = total > 0 ? Int(Double(sent) / Double(total) * 100) : 100
                        progress.update(hostName, "image \(ref.name)", detail: "\(pct)%")
                    }
                }
                context.recordPlacement(r.outcome, volume: ref.name, host: hostName)
            }
        }
    }
}
