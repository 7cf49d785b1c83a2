import Foundation
import Libvirt
import NestlabCore

/// With `--purge`: base images, kernels and initrds in the shared image pool that nothing on the
/// host refers to any more: no domain (its kernel, initrd, disks or nestlab metadata) and no
/// volume in any pool (its backing store).
struct PurgeUnusedImages: DownStep {
    let name = "purge unused images"

    func run(_ host: DownHost) throws {
        let removed = try Self.purge(session: host.session)
        host.note { $0.images += removed }
    }

    /// Deletes base images, kernels and initrds that no domain on the host refers to any more.
    static func purge(session: HostSession) throws -> [String] {
        let c = session.connection
        guard let pool = try c.storagePoolIfExists(named: Lab.imagePoolName),
            pool.uuid.lowercased() == Identity.uuid("pool", "images").lowercased()
        else { return [] }
        return try ErrorWithContext.wrap("purging unused base images on \(session.host.name)") {
            var referenced = Set<String>()
            for d in try c.listAllDomains() {
                let domain = try DomainDescription(xml: try d.xmlDesc(flags: .inactive), of: d.name)
                referenced.formUnion([domain.kernel, domain.initrd].compactMap { $0 })
                // Any domain's disk, nestlab's or not, that uses an image-pool volume keeps it.
                for disk in domain.disks {
                    if let file = disk.file { referenced.insert(file) }
                    if disk.pool == Lab.imagePoolName, let volume = disk.volume { referenced.insert(volume) }
                }
                if let xml = try d.metadataIfPresent(uri: NestlabXMLNS.uri, flags: .config),
                    let base = try LabMetadata.parse(xml, domain: d.name)?.volume("base")
                {
                    referenced.insert(base.name)
                }
            }
            // Overlays point at their base through <backingStore>: a lab's, or one in any other
            // pool of the host (an image of somebody else's made on top of a nestlab base).
            for p in try c.listAllStoragePools() where p.name != Lab.imagePoolName {
                guard try p.isActive() else { continue }
                for v in try p.listAllVolumes() {
                    let volume = try VolumeDescription(xml: try v.xmlDesc(), of: v.name)
                    referenced.formUnion([volume.path, volume.backingStore?.path].compactMap { $0 })
                }
            }
            var removed: [String] = []
            let dir = try PoolDescription(xml: try pool.xmlDesc(), of: pool.name).targetPath ?? ""
            for v in try pool.listAllVolumes() {
                let n = v.name
                guard n.hasPrefix("base-") || n.hasPrefix("kernel-") || n.hasPrefix("initrd-") else { continue }
                if referenced.contains(n) || referenced.contains("\(dir)/\(n)")
                    || referenced.contains((try? v.path()) ?? "")
                {
                    continue
                }
                try v.delete()
                removed.append("\(session.host.name):\(n)")
            }
            return removed
        }
    }
}
