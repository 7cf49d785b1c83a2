import Foundation
import NestlabCore

/// Networks named LAB-NET whose UUID nestlab derived for (LAB, NET); any other stays, listed.
struct RemoveNetworks: DownStep {
    let name = "remove networks"

    func run(_ host: DownHost) throws {
        let lab = host.lab
        for n in try host.session.connection.listAllNetworks() where n.name.hasPrefix("\(lab)-") {
            let netName = String(n.name.dropFirst(lab.count + 1))
            guard n.uuid.lowercased() == Identity.uuid("network", lab, netName).lowercased() else {
                host.note { $0.kept.append("\(host.hostName): network \(n.name) (not this lab's)") }
                continue
            }
            try ErrorWithContext.wrap("removing network \(n.name) on \(host.hostName)") {
                if try n.isActive() { try n.destroy() }
                try n.undefine()
            }
            host.note { $0.networks.append("\(host.hostName):\(n.name)") }
        }
    }
}
