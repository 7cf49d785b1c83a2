import Foundation
import NestlabCore

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
