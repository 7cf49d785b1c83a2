import Foundation
import NestlabCore
import Synchronization

/// Hosts of a lab that could not be reached (or whose facts could not be read) before anything
/// was created: an operation failure (exit 1) that names each host, its URI and libvirt's words.
public struct HostConnectError: Error, CustomStringConvertible {
    public struct Failure: Sendable {
        public var host: String
        public var uri: String
        public var error: any Error
    }

    public var failures: [Failure]
    /// Hosts that answered (nothing was created on them either).
    public var reached: [String]

    public var description: String {
        var lines = failures.map { f in
            let why: String
            if case HostError.unreachable(let e)? = (f.error as? ErrorWithContext)?.underlying {
                why = "\(e)"
            } else {
                why = "\(f.error)"
            }
            return "cannot reach host '\(f.host)' at \(f.uri): \(why)"
        }
        lines.append(
            "nothing was created on any host"
                + (reached.isEmpty ? "" : " (reached: \(reached.joined(separator: ", ")))")
                + "; check that libvirtd runs there and that the URI, the SSH user and key are right")
        return lines.joined(separator: "\n")
    }
}
