import Foundation
import NestlabCore

/// `nestlab bench`: machines mode (`BenchRunner`, over ssh) and Kubernetes mode
/// (`KubernetesBench`, pods per runtime class), on the same benchmark definitions.
public enum BenchCommands {
    public struct Request: Sendable {
        public var lab: String?
        public var machines: [String]?
        public var role: String?
        public var sshTargets: [String] = []
        public var sshOptions: [String] = []
        /// Machines mode: where iperf3, redis and postgres serve the measured machines from
        /// (a machine of the lab, or an SSH destination); nil: on each measured machine.
        public var server: String?
        public var environment: String
        /// Machines mode: the label of the samples ("none" when nil). Kubernetes mode: the
        /// runtimes to measure (all of the cluster's when nil).
        public var runtime: String?
        /// Kubernetes mode.
        public var kubernetes = false
        public var testbed: String?
        public var cluster: String?
        public var kubeconfig: String?
        /// The server's node, then the client's (one name: both on it).
        public var nodes: [String]?
        public var image: String?
        public var podCPUs = 2
        public var podMemory = "4Gi"
        /// `BENCH=IMAGE`: urunc's unikernel servers.
        public var unikernels: [String] = []
        public var benchmarks: [String]?
        public var repetitions = 5
        public var duration: Int?
        public var paramsFile: String?
        public var resultsDir: String = "results"

        public init(environment: String) { self.environment = environment }
    }

    static let labelPattern = #"^[a-z0-9][a-z0-9._-]{0,63}$"#

    /// Machines mode's targets: the measured machines, and the server machine when given.
    public struct Machines: Sendable {
        public var targets: [BenchRunner.Target]
        public var server: BenchRunner.Target?
    }

    /// Checks what both modes share (exit 2 for bad input, before anything runs): labels,
    /// counts, benchmarks, parameters.
    static func options(_ r: Request) throws -> BenchRunner.Options {
        let labels =
            [("--environment", r.environment)] + (r.kubernetes ? [] : [("--runtime", r.runtime ?? "none")])
            + (r.kubernetes ? (r.runtime.map(list) ?? []).map { ("--runtime", $0) } : [])
        for (what, value) in labels where value.range(of: labelPattern, options: .regularExpression) == nil {
            throw UsageError(
                "\(what) '\(value.prefix(64))' must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. baremetal, nested-mitigated)"
            )
        }
        guard (1...100).contains(r.repetitions) else { throw UsageError("--repeat must be from 1 to 100") }
        if let d = r.duration, !(1...86_400).contains(d) {
            throw UsageError("--duration must be from 1 to 86400 seconds")
        }
        var benches = BenchParameters.benchmarks
        if let want = r.benchmarks {
            for b in want where !BenchParameters.benchmarks.contains(b) {
                throw UsageError(
                    "unknown benchmark '\(b.prefix(64))'; the benchmarks: \(BenchParameters.benchmarks.joined(separator: ", "))"
                )
            }
            benches = BenchParameters.benchmarks.filter { want.contains($0) }
        }
        var params = BenchParameters()
        if let f = r.paramsFile {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else {
                throw UsageError("cannot read the parameter file \(f)")
            }
            do { params = try BenchParameters.load(yaml: text, file: f) } catch let e as BenchParameterError {
                throw UsageError(e.description)
            }
        }
        if let d = r.duration { params.duration = d }
        var o = BenchRunner.Options(environment: r.environment, resultsDir: URL(fileURLWithPath: r.resultsDir))
        o.runtime = r.kubernetes ? "kubernetes" : r.runtime ?? "none"
        o.benchmarks = benches
        o.repetitions = r.repetitions
        o.parameters = params
        return o
    }

    static func list(_ s: String) -> [String] {
        s.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    /// Machines mode: checks the request and resolves the machines to reach over ssh.
    public static func prepare(_ r: Request, store: StateStore = .default()) throws -> (Machines, BenchRunner.Options) {
        guard !r.kubernetes else { throw UsageError("internal: prepare is machines mode; use prepareKubernetes") }
        for (flag, set) in [
            ("--cluster", r.cluster != nil), ("--testbed", r.testbed != nil), ("--kubeconfig", r.kubeconfig != nil),
            ("--nodes", r.nodes != nil), ("--image", r.image != nil), ("--unikernel", !r.unikernels.isEmpty),
        ] where set {
            throw UsageError("\(flag) is for Kubernetes mode: add --kubernetes")
        }
        let o = try options(r)
        var targets: [BenchRunner.Target] = []
        var access: LabAccess?
        if let lab = r.lab {
            let a = try AccessCommands.load(lab: lab, store: store)
            access = a
            let config = try AccessCommands.config(a)
            for m in try AccessCommands.select(a, machines: r.machines, role: r.role) {
                targets.append(labTarget(m, config: config))
            }
        } else if r.machines != nil || r.role != nil {
            throw UsageError("--machines and --role choose machines of a lab: give the lab's name")
        }
        for t in r.sshTargets { targets.append(try sshTarget(t, flag: "--ssh", options: r.sshOptions)) }
        guard !targets.isEmpty else {
            throw UsageError("give a lab (its machines run the benchmarks) or --ssh user@host (or both)")
        }
        var server: BenchRunner.Target?
        if let name = r.server {
            if let a = access, let m = a.machines.first(where: { $0.name == name }) {
                server = labTarget(m, config: try AccessCommands.config(a))
            } else {
                server = try sshTarget(name, flag: "--server", options: r.sshOptions)
            }
        }
        return (Machines(targets: targets, server: server), o)
    }

    static func labTarget(_ m: MachineAccess, config: String) -> BenchRunner.Target {
        BenchRunner.Target(
            name: m.name, ssh: ["ssh", "-F", config] + batch + [m.name], isRoot: m.user == "root", address: m.address)
    }

    /// `user@host` (no options, no blanks), checked strictly against the user's known_hosts.
    static func sshTarget(_ t: String, flag: String, options: [String]) throws -> BenchRunner.Target {
        guard !t.isEmpty, t.count <= 255, !t.hasPrefix("-"), !t.contains(where: { $0.isWhitespace || $0.isNewline })
        else {
            throw UsageError("\(flag) '\(t.prefix(64))' is not an SSH destination (user@host)")
        }
        let at = t.lastIndex(of: "@")
        let user = at.map { String(t[..<$0]) } ?? NSUserName()
        let host = at.map { String(t[t.index(after: $0)...]) } ?? t
        return BenchRunner.Target(
            name: t, ssh: ["ssh"] + batch + ["-o", "StrictHostKeyChecking=yes"] + options + [t],
            isRoot: user == "root", address: host)
    }

    // MARK: Kubernetes mode

    static let imagePattern = #"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$"#
    static let quantityPattern = #"^[1-9][0-9]{0,6}(Ki|Mi|Gi|Ti)$"#

    /// Kubernetes mode: checks the request, reads the testbed, and chooses the cluster, the
    /// runtimes and the nodes. Everything that is wrong with the input is exit 2, before any
    /// kubectl runs.
    public static func prepareKubernetes(
        _ r: Request, store: StateStore = .default(),
        environment env: [String: String] = ProcessInfo.processInfo.environment
    )
        throws -> (KubernetesBench.Plan, BenchRunner.Options)
    {
        for (flag, set) in [
            ("--machines", r.machines != nil), ("--role", r.role != nil), ("--ssh", !r.sshTargets.isEmpty),
            ("--ssh-option", !r.sshOptions.isEmpty), ("--server", r.server != nil),
        ] where set {
            throw UsageError(
                "\(flag) is for machines mode; in Kubernetes mode pods on the cluster's nodes run the benchmarks (see --nodes)"
            )
        }
        let o = try options(r)
        try checkPodFlags(r)
        let (testbed, testbedPath) = try readTestbed(r, store: store, environment: env)
        let cluster = try chooseCluster(r.cluster, in: testbed, path: testbedPath)
        let runtimes = try chooseRuntimes(r.runtime, of: cluster, path: testbedPath)
        let unikernels = try parseUnikernels(r.unikernels)
        let (server, client) = try nodes(r.nodes, cluster)
        let kubeconfig = try chooseKubeconfig(r.kubeconfig, cluster, environment: env)
        var plan = KubernetesBench.Plan(
            kubectl: ["kubectl", "--kubeconfig", kubeconfig], cluster: cluster.name, runtimes: runtimes,
            serverNode: server, clientNode: client, image: r.image ?? BenchPods.defaultImage,
            install: r.image == nil, cpus: r.podCPUs, memory: r.podMemory)
        plan.unikernels = unikernels
        return (plan, o)
    }

    /// --pod-cpus, --pod-memory and --image.
    private static func checkPodFlags(_ r: Request) throws {
        guard (1...512).contains(r.podCPUs) else {
            throw UsageError("--pod-cpus must be a whole number of CPUs from 1 to 512")
        }
        guard r.podMemory.range(of: quantityPattern, options: .regularExpression) != nil else {
            throw UsageError(
                "--pod-memory '\(r.podMemory.prefix(64))' must be a Kubernetes quantity such as 4Gi or 512Mi")
        }
        if let image = r.image, image.range(of: imagePattern, options: .regularExpression) == nil {
            throw UsageError("--image '\(image.prefix(64))' is not an image reference (e.g. registry.example/bench:1)")
        }
    }

    /// The testbed (--testbed, else the lab's, else NESTLAB_TESTBED) and its path.
    private static func readTestbed(
        _ r: Request, store: StateStore, environment env: [String: String]
    ) throws -> (Testbed, String) {
        let testbedPath: String
        if let t = r.testbed {
            testbedPath = t
        } else if let lab = r.lab {
            testbedPath = store.lab(lab).testbed.path
        } else if let t = env["NESTLAB_TESTBED"], !t.isEmpty {
            testbedPath = t
        } else {
            throw UsageError(
                "give a lab, or --testbed FILE (a testbed.json; NESTLAB_TESTBED when nestlab runs the hand-off)")
        }
        guard let data = FileManager.default.contents(atPath: testbedPath) else {
            throw UsageError(
                "cannot read the testbed \(testbedPath)"
                    + (r.lab != nil ? " (is lab \(r.lab!) up? `nestlab up` writes it)" : ""))
        }
        do { return (try Testbed.decode(data), testbedPath) } catch {
            throw UsageError("\(testbedPath) is not a testbed.json nestlab can read: \(error)")
        }
    }

    /// The cluster asked for, else the testbed's first.
    private static func chooseCluster(_ name: String?, in testbed: Testbed, path testbedPath: String) throws
        -> Testbed.Cluster
    {
        let names = testbed.clusters.map(\.name)
        guard let cluster = name.map({ c in testbed.clusters.first { $0.name == c } }) ?? testbed.clusters.first
        else {
            if let c = name {
                throw UsageError(
                    "no cluster '\(c.prefix(64))' in \(testbedPath); clusters: \(names.joined(separator: ", "))")
            }
            throw UsageError("\(testbedPath) lists no cluster: Kubernetes mode needs one (machines mode does not)")
        }
        return cluster
    }

    /// The runtimes asked for (--runtime, a list), else all of the cluster's.
    private static func chooseRuntimes(_ given: String?, of cluster: Testbed.Cluster, path testbedPath: String) throws
        -> [Testbed.RuntimeClass]
    {
        var runtimes = cluster.runtimeClasses
        if let want = given.map(list) {
            for w in want where !runtimes.contains(where: { $0.name == w }) {
                throw UsageError(
                    "no runtime '\(w)' in cluster \(cluster.name); its runtimes: \(runtimes.map(\.name).joined(separator: ", "))"
                )
            }
            runtimes = runtimes.filter { want.contains($0.name) }
        }
        guard !runtimes.isEmpty else {
            throw UsageError("cluster \(cluster.name) has no runtime classes in \(testbedPath)")
        }
        return runtimes
    }

    /// --unikernel BENCH=IMAGE, each.
    private static func parseUnikernels(_ given: [String]) throws -> [String: String] {
        var unikernels: [String: String] = [:]
        for u in given {
            let parts = u.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, BenchPods.unikernelPorts[parts[0]] != nil,
                parts[1].range(of: imagePattern, options: .regularExpression) != nil
            else {
                throw UsageError(
                    "--unikernel '\(u.prefix(64))' must be BENCH=IMAGE with BENCH one of \(BenchPods.unikernelPorts.keys.sorted().joined(separator: ", ")) (e.g. redis=registry.example/redis-unikernel:1)"
                )
            }
            unikernels[parts[0]] = parts[1]
        }
        return unikernels
    }

    /// --kubeconfig, else the cluster's when it is readable here, else KUBECONFIG.
    private static func chooseKubeconfig(
        _ given: String?, _ cluster: Testbed.Cluster, environment env: [String: String]
    )
        throws -> String
    {
        var kubeconfig = given
        if kubeconfig == nil {
            kubeconfig =
                FileManager.default.isReadableFile(atPath: cluster.kubeconfig) ? cluster.kubeconfig : env["KUBECONFIG"]
        }
        guard let kubeconfig, !kubeconfig.isEmpty else {
            throw UsageError(
                "no kubeconfig: \(cluster.kubeconfig) is not readable here and KUBECONFIG is not set; give --kubeconfig FILE"
            )
        }
        return kubeconfig
    }

    /// The server's node and the client's: as given, else the first worker serves and the
    /// second is measured (the first again when there is one worker; the control plane when
    /// there is none), so that network benchmarks cross the cluster network when they can.
    static func nodes(_ given: [String]?, _ c: Testbed.Cluster) throws -> (Testbed.Node, Testbed.Node) {
        if let given {
            guard (1...2).contains(given.count) else {
                throw UsageError("--nodes takes one or two node names: SERVER[,CLIENT]")
            }
            let found = try given.map { n in
                guard let node = c.nodes.first(where: { $0.name == n }) else {
                    throw UsageError(
                        "no node '\(n.prefix(64))' in cluster \(c.name); nodes: \(c.nodes.map(\.name).joined(separator: ", "))"
                    )
                }
                return node
            }
            return (found[0], found.count > 1 ? found[1] : found[0])
        }
        let workers = c.nodes.filter { $0.role == "worker" }
        guard let first = workers.first ?? c.nodes.first else {
            throw UsageError("cluster \(c.name) has no nodes in the testbed")
        }
        return (first, workers.count > 1 ? workers[1] : first)
    }

    /// Kubernetes mode runs `kubectl`: it must be on PATH (checked before anything runs).
    public static func requireKubectl(_ env: [String: String] = ProcessInfo.processInfo.environment) throws {
        let found = (env["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/kubectl")
        }
        guard found else {
            throw OperationError("kubectl is not installed (not on PATH): Kubernetes mode drives the cluster with it")
        }
    }

    static let batch = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=15"]

    public static func run(_ r: Request, flags: RunFlags) async throws {
        let report: BenchRunner.Report
        if r.kubernetes {
            let (plan, options) = try prepareKubernetes(r)
            try requireKubectl()
            report = try await KubernetesBench.run(plan, options: options, progress: flags.progress(log: nil))
        } else {
            let (m, options) = try prepare(r)
            report = try await BenchRunner.run(
                targets: m.targets, server: m.server, options: options, progress: flags.progress(log: nil))
        }
        if flags.format == .json {
            Console.out(try JSONOutput.string(report))
        } else {
            var out =
                "\(report.samples) samples from \(report.runs) runs in \(String(format: "%.0f", report.seconds)) s appended to \(report.results)"
            var said = Set<String>()
            for s in report.skipped where said.insert(s.machine).inserted {
                out += "\nskipped \(s.machine): \(s.message)"
            }
            Console.out(out)
        }
        if !report.failures.isEmpty {
            throw OperationError(
                "benchmarks failed: "
                    + report.failures.map { "\($0.machine) \($0.benchmark) (\($0.step)): \($0.message)" }
                    .joined(separator: "; "))
        }
    }
}
