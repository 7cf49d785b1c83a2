import Foundation
import NestlabCore

/// How a `FILE|LAB` argument was understood.
public struct LabTarget: Sendable {
    public var lab: String
    /// The topology file, when one was given or recorded.
    public var file: String?
    public var hosts: [LabHost]
    /// The topology, parsed once here, when there is a file.
    public var topology: Topology?

    /// A path to an existing file is a topology; anything else is a lab name whose
    /// topology nestlab recorded at `up` (or, failing that, the default local host).
    public static func resolve(
        _ arg: String, store: StateStore, connect: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> LabTarget {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: arg, isDirectory: &isDir), !isDir.boolValue {
            let (t, _) = try TopologyParser(environment: environment).load(path: arg)
            return LabTarget(lab: t.name, file: arg, hosts: hosts(t, connect), topology: t)
        }
        if arg.hasSuffix(".yaml") || arg.hasSuffix(".yml") || arg.contains("/") {
            throw UsageError("no topology file at \(arg); give an existing topology file or a lab name")
        }
        guard arg.range(of: #"^[a-z][a-z0-9-]{0,29}$"#, options: .regularExpression) != nil else {
            throw UsageError("'\(arg)' is neither a topology file nor a lab name (lower-case letters, digits and '-')")
        }
        let state = store.lab(arg)
        let record = try LabRecord.load(state)
        if let src = record?.topologyPath, FileManager.default.fileExists(atPath: src),
            let (t, _) = try? TopologyParser(environment: environment).load(path: src), t.name == arg
        {
            return LabTarget(lab: arg, file: src, hosts: hosts(t, connect), topology: t)
        }
        // The topology file is gone or changed: the hosts `up` last connected to still know the
        // lab's objects by their tags (so `down LAB` cleans every host of a multi-host lab).
        if connect == nil, let recorded = record?.hosts, !recorded.isEmpty {
            return LabTarget(
                lab: arg, file: nil, hosts: recorded.map { LabHost(name: $0.name, libvirt: $0.libvirt) })
        }
        let uri = connect ?? LabHost.defaultURI
        return LabTarget(lab: arg, file: nil, hosts: [LabHost(name: LabHost.defaultName, libvirt: uri)])
    }

    static func hosts(_ t: Topology, _ connect: String?) -> [LabHost] {
        guard let connect else { return t.hosts }
        return t.hosts.map {
            var h = $0
            h.libvirt = connect
            return h
        }
    }
}
