import Foundation
import Libvirt
import NestlabCore
import Synchronization

public enum HostError: Error, CustomStringConvertible {
    case unreachable(any Error)
    case foreignObject(kind: String, name: String, host: String)
    case networkDrift(name: String, host: String, detail: String)
    case system(String, errno: Int32)
    case placementUnverified(volume: String, host: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let e):
            return "\(e); is libvirtd running? (start it with `libvirtd -d`, or check the URI and your access to it)"
        case .foreignObject(let kind, let name, let host):
            return
                "\(kind) '\(name)' on \(host) exists but was not created by nestlab for this lab; rename or remove it, or rename the lab"
        case .networkDrift(let name, let host, let detail):
            return
                "network '\(name)' on \(host) differs from the topology: \(detail); run `nestlab down` first to recreate it"
        case .system(let what, let e):
            return "\(what): \(String(cString: strerror(e)))"
        case .placementUnverified(let volume, let host, let reason):
            return "volume \(volume) on host '\(host)' does not hold what was placed in it: \(reason)"
        }
    }
}
