import Foundation
import Libvirt
import NestlabCore

/// `snapshot rm`: a golden state and its layers removed.
extension SnapshotEngine {
    /// Removes a golden state: its layers on every host, then its record.
    public static func remove(_ state: LabState, golden g: GoldenState, sessions: [String: HostSession]) throws {
        for layer in g.machines {
            guard let hs = sessions[layer.host] else { continue }
            try ErrorWithContext.wrap("removing golden layer \(layer.volume) on \(layer.host)") {
                // An overlay still based on this layer (the running machine) keeps it in use.
                let pool = try hs.connection.storagePool(named: Lab.poolName(lab: g.lab))
                guard let v = try pool.volumeIfExists(named: layer.volume) else { return }
                let path = try v.path()
                for other in try pool.listAllVolumes() where other.name != layer.volume {
                    let volume = try VolumeDescription(xml: try other.xmlDesc(), of: other.name)
                    if volume.path == path || volume.backingStore?.path == path,
                        other.name.hasSuffix(".qcow2") && !other.name.contains("-golden-")
                    {
                        throw SnapshotError.layerInUse(volume: layer.volume, by: other.name)
                    }
                }
                try v.delete()
            }
        }
        try FileManager.default.removeItem(at: GoldenState.file(state, g.name))
    }
}
