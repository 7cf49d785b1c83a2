import Foundation
import Libvirt
import NestlabCore

/// Writes the lab's `testbed.json` from what libvirt reports after `up`.
public enum TestbedWriter {
    @discardableResult
    public static func write(_ s: LabSession, phases: [Testbed.Phase]) async throws -> URL {
        var hosts: [Testbed.HostReport] = []
        var machines: [Testbed.MachineReport] = []
        for (name, hs) in s.sessions.sorted(by: { $0.key < $1.key }) {
            let facts = s.facts[name]
            let report = try await Blocking.run { () -> Testbed.HostReport in
                let model = (try? HostCapabilities(xml: try hs.connection.capabilities(), of: name))?.cpuModel
                return Testbed.HostReport(
                    name: name, cpuModel: model, cpuVendor: facts?.cpuVendor, numa: facts?.numaNodes ?? [:],
                    kernel: hs.host.isLocal && !hs.isTestDriver ? localKernel() : nil,
                    libvirtVersion: (try? hs.connection.libVersion())?.description,
                    qemuVersion: (try? hs.connection.hypervisorVersion())??.description, kvmUsable: facts?.kvmUsable)
            }
            hosts.append(report)
        }
        let status = try await StatusEngine.run(
            lab: s.lab.name, sessions: Array(s.sessions.values), rendered: s.rendered)
        let access = LabAccess(lab: s.lab, state: s.state)
        for row in status.machines where s.lab.machine(named: row.machine) != nil {
            var report = Testbed.MachineReport(
                name: row.machine, vcpuPins: row.vcpuPins.map { CPUSet($0) },
                emulatorPin: row.emulatorPin.map { CPUSet($0) },
                state: row.state, ready: row.ready)
            report.ssh = access.machine(named: row.machine).map { Testbed.SSH($0, configFile: s.state.sshConfig.path) }
            machines.append(report)
        }
        var clusters: [Testbed.ClusterReport] = []
        for c in s.clusters {
            var versions: [String: String] = ["containerd": c.cluster.containerd]
            for rt in c.cluster.runtimes {
                switch rt {
                case .kata(let k): versions["kata"] = k.version
                case .urunc(let u): versions["urunc"] = u.version
                case .kubevirt(let k): versions["kubevirt"] = k.version
                default: break
                }
            }
            clusters.append(
                Testbed.ClusterReport(
                    name: c.cluster.name, apiEndpoint: c.apiServer,
                    kubeconfig: s.state.kubeconfig(c.cluster.name).path, versions: versions,
                    kubevirtEmulation: c.spec.runtimes.kubevirt?.useEmulation))
        }
        let lockPath = LockFile.path(forTopology: s.topology.file)
        let lock = FileManager.default.fileExists(atPath: lockPath) ? try Testbed.FileDigest.of(path: lockPath) : nil
        let tb = try Testbed.build(
            topology: s.topology, lab: s.lab, lock: lock, hosts: hosts, machines: machines,
            clusters: clusters, phases: phases, stateDir: s.state.dir.path)
        try tb.write(to: s.state.testbed)
        return s.state.testbed
    }

    static func localKernel() -> String? {
        var u = utsname()
        guard uname(&u) == 0 else { return nil }
        return withUnsafeBytes(of: &u.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension Testbed.SSH {
    public init(_ m: MachineAccess, configFile: String) {
        self.init(
            host: m.address, port: m.port, user: m.user, identityFile: m.identityFile, knownHostsFile: m.knownHostsFile,
            proxyJump: m.proxyJump?.target, configFile: configFile, alias: m.name)
    }
}
