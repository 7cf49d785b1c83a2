import Crypto
import Foundation
import NestlabCore
import Synchronization

/// Names and places of base images on hosts.
public enum BaseImages {
    /// The base volume reference for a local image on a host (where `up` puts it).
    public static func ref(for local: LocalImage, host: LabHost) -> BaseVolumeRef {
        let dir = Lab.imagePoolPath(host: host)
        func vol(_ f: LocalFile, _ kind: String) -> VolumeRef {
            let name = "\(kind)-\(f.sha256.prefix(16))"
            return VolumeRef(pool: Lab.imagePoolName, name: name, path: "\(dir)/\(name)", identity: f.sha256)
        }
        let diskName = Lab.baseVolumeName(sha256: local.disk.sha256, format: local.image.format)
        return BaseVolumeRef(
            disk: VolumeRef(
                pool: Lab.imagePoolName, name: diskName, path: "\(dir)/\(diskName)", identity: local.disk.sha256),
            format: local.image.format, kernel: local.kernel.map { vol($0, "kernel") },
            initrd: local.initrd.map { vol($0, "initrd") })
    }
}
