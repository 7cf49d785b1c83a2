import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// libvirt connections by URI, shared by the host sessions of one process.
///
/// Each command opens its hosts once, so the CLI needs no pool. A process that opens
/// a lab several times (tests, the benchmark) passes one pool to every
/// `LabSession.open`, so that all of them talk to the same libvirt state: with the test
/// driver and a node file, every new connection starts a fresh, empty fake host.
public final class ConnectionPool: Sendable {
    private let connections = Mutex<[String: Connection]>([:])

    public init() {}

    /// The pool's connection to `uri`, opened on first use.
    public func connection(uri: String) throws(LibvirtError) -> Connection {
        try connections.withLock { (all: inout [String: Connection]) throws(LibvirtError) -> Connection in
            if let c = all[uri] { return c }
            let c = try Connection(uri: uri)
            all[uri] = c
            return c
        }
    }
}
