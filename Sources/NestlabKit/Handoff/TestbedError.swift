import Crypto
import Foundation
import NestlabCore

/// Why a testbed record cannot be built or read.
public enum TestbedError: Error, CustomStringConvertible, Equatable {
    /// A report names a machine the lab does not have.
    case unknownMachine(String, known: [String])
    /// The lab has a machine nobody reported on (its applied pinning and state are unknown).
    case missingMachineReport(String)
    case unknownHost(String, known: [String])
    case unknownCluster(String, known: [String])
    case missingClusterReport(String)
    /// A cluster report names a node the topology does not put in that cluster.
    case unknownNode(cluster: String, node: String, known: [String])
    case phaseEndsBeforeStart(String)
    case unreadable(path: String, reason: String)
    case unsupportedSchemaVersion(Int)

    public var description: String {
        switch self {
        case .unknownMachine(let m, let known):
            return
                "a machine report names '\(m)', which the lab does not have; machines: \(known.joined(separator: ", "))"
        case .missingMachineReport(let m):
            return "no report for machine '\(m)': testbed.json needs its applied pinning and state from libvirt"
        case .unknownHost(let h, let known):
            return
                "a host report names '\(h)', which the topology does not have; hosts: \(known.joined(separator: ", "))"
        case .unknownCluster(let c, let known):
            return
                "a cluster report names '\(c)', which the topology does not have; clusters: \(known.joined(separator: ", "))"
        case .missingClusterReport(let c):
            return "no report for cluster '\(c)': testbed.json needs its API endpoint and kubeconfig"
        case .unknownNode(let c, let n, let known):
            return
                "the report of cluster '\(c)' names node '\(n)', which is not in it; nodes: \(known.joined(separator: ", "))"
        case .phaseEndsBeforeStart(let p):
            return "phase '\(p)' ends before it starts; give its start and end from one clock"
        case .unreadable(let p, let r):
            return "cannot read \(p): \(r)"
        case .unsupportedSchemaVersion(let v):
            return "testbed.json has schemaVersion \(v); this nestlab reads version \(Testbed.currentSchemaVersion)"
        }
    }
}
