import Foundation
import Libvirt
import NestlabCore

/// A golden state: every machine's disk captured as a read-only qcow2 layer on its
/// host, recorded with the topology and lock digests it was made from.
public struct GoldenState: Codable, Sendable {
    public struct MachineLayer: Codable, Sendable {
        public var machine: String
        public var host: String
        /// The golden layer's volume in the lab pool: `LAB-M-golden-NAME.qcow2`.
        public var volume: String
        public var specDigest: String
        public var spec: [[String]]
    }

    public var name: String
    public var lab: String
    public var createdAt: Date
    public var topologyDigest: String
    public var lockDigest: String?
    public var machines: [MachineLayer]

    static func file(_ state: LabState, _ name: String) -> URL { state.golden.appendingPathComponent("\(name).json") }

    public static func list(_ state: LabState) -> [GoldenState] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.golden.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap { n in
            try? decoder.decode(GoldenState.self, from: Data(contentsOf: state.golden.appendingPathComponent(n)))
        }.sorted { $0.createdAt < $1.createdAt }
    }

    public static func load(_ state: LabState, _ name: String) throws -> GoldenState {
        let f = file(state, name)
        guard FileManager.default.fileExists(atPath: f.path) else {
            let known = list(state).map(\.name)
            throw UsageError(
                "lab '\(state.name)' has no golden state '\(name)'"
                    + (known.isEmpty ? "" : "; golden states: \(known.joined(separator: ", "))"))
        }
        return try decoder.decode(GoldenState.self, from: Data(contentsOf: f))
    }

    func save(_ state: LabState) throws {
        try FileManager.default.createDirectory(
            at: state.golden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.dateEncodingStrategy = .iso8601
        try e.encode(self).write(to: Self.file(state, name), options: .atomic)
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    public static func volumeName(lab: String, machine: String, golden: String) -> String {
        "\(lab)-\(machine)-golden-\(golden).qcow2"
    }

    /// The golden layer captured for `machine`, if the golden state has one.
    public func layer(of machine: String) -> MachineLayer? {
        machines.first { $0.machine == machine }
    }

    /// Why this golden state cannot be used for the topology as it is now; nil when it can.
    public func mismatch(with s: LabSession) -> String? {
        var out: [String] = []
        for rm in s.rendered.machines {
            guard let layer = layer(of: rm.machine.name) else {
                out.append("machine \(rm.machine.name) is new since the golden state")
                continue
            }
            if layer.specDigest != rm.spec.digest {
                let old = MachineSpec(fields: layer.spec.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil })
                out.append("\(rm.machine.name): " + rm.spec.differences(from: old).joined(separator: ", "))
            }
        }
        for layer in machines where s.rendered.machine(named: layer.machine) == nil {
            out.append("machine \(layer.machine) is gone from the topology")
        }
        if out.isEmpty && topologyDigest != s.topology.digest {
            // Same machines, other text (comments, a cluster knob): still a different testbed description.
            out.append(
                "the topology file changed (sha256 \(topologyDigest.prefix(12))… → \(s.topology.digest.prefix(12))…)")
        }
        return out.isEmpty ? nil : out.joined(separator: "; ")
    }
}
