import Foundation
import NestlabCore
import Yams

/// `nestlab bench --kubernetes`: the benchmarks in pods, once per runtime class of a cluster.
///
/// For each runtime: a client pod and a server pod under its RuntimeClass (`BenchPods`), on
/// the chosen nodes; then, for each benchmark, exactly what machines mode does over ssh, with
/// `kubectl exec` instead (`BenchRunner.measure`): the client is measured, iperf3, redis and
/// postgres serve it from the server pod, across the cluster network (pod IP to pod IP).
/// Samples are labelled with the runtime's name and the client's node. Everything lives in a
/// namespace of this run, which is deleted at the end, whatever happened; the manifests that
/// were applied, and each runtime's pods as the API server reported them (node, runtime
/// class, image digest), are kept under `raw/ENV/kubernetes/`.
public enum KubernetesBench {
    public struct Plan: Sendable {
        /// `kubectl` and its global options (`--kubeconfig`).
        public var kubectl: [String]
        public var cluster: String
        public var runtimes: [Testbed.RuntimeClass]
        public var serverNode: Testbed.Node
        public var clientNode: Testbed.Node
        public var image: String
        /// Install missing tools in the pods (the default Debian image has none).
        public var install: Bool
        public var cpus: Int
        public var memory: String
        /// urunc's unikernel servers: benchmark (iperf3, redis) → image.
        public var unikernels: [String: String] = [:]

        public init(
            kubectl: [String], cluster: String, runtimes: [Testbed.RuntimeClass], serverNode: Testbed.Node,
            clientNode: Testbed.Node, image: String, install: Bool, cpus: Int, memory: String
        ) {
            self.kubectl = kubectl
            self.cluster = cluster
            self.runtimes = runtimes
            self.serverNode = serverNode
            self.clientNode = clientNode
            self.image = image
            self.install = install
            self.cpus = cpus
            self.memory = memory
        }
    }

    public static func run(_ plan: Plan, options: BenchRunner.Options, progress: ProgressView) async throws
        -> BenchRunner.Report
    {
        let reach = try await kubectl(plan, ["get", "nodes", "-o", "name"], timeout: 60)
        guard reach.status == 0 else {
            throw OperationError(
                "cannot reach cluster \(plan.cluster) with kubectl: \(BenchRunner.lastLine(reach.stderr))")
        }
        let runnable = plan.runtimes.filter {
            BenchPods.unsupported(runtime: $0.runtime, kind: $0.kind, unikernels: plan.unikernels) == nil
        }
        var run = try BenchRunner.Run(options: options, machines: runnable.count, progress: progress)
        skipUnsupported(plan, &run)
        guard !runnable.isEmpty else {
            progress.close()
            return run.report(runtime: "kubernetes")
        }

        let runID = UUID().uuidString.prefix(8).lowercased()
        let settings = BenchPods.Settings(
            namespace: "nestlab-bench-\(runID)", runID: runID, image: plan.image, cpus: plan.cpus,
            memory: plan.memory)
        let keep = options.resultsDir.appendingPathComponent(
            "raw/\(BenchRunner.safe(options.environment))/kubernetes/\(runID)")
        try FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true)
        var failure: Error?
        do {
            try await apply(plan, [BenchPods.namespace(settings)], file: keep.appendingPathComponent("namespace.yaml"))
            for rt in runnable {
                if rt.runtime == "urunc" {
                    try await measureUnikernels(runtime: rt, plan, settings, keep: keep, &run)
                } else {
                    try await measure(runtime: rt, plan, settings, keep: keep, &run)
                }
            }
        } catch {
            failure = error
        }
        await deleteNamespace(plan, settings, &run)
        progress.close()
        if let failure { throw failure }
        return run.report(runtime: runnable.count == 1 ? runnable[0].name : "kubernetes")
    }

    /// Records every benchmark of a runtime this mode cannot measure as skipped, with the reason.
    private static func skipUnsupported(_ plan: Plan, _ run: inout BenchRunner.Run) {
        for rt in plan.runtimes {
            if let why = BenchPods.unsupported(runtime: rt.runtime, kind: rt.kind, unikernels: plan.unikernels) {
                for b in run.options.benchmarks {
                    run.skipped.append(.init(machine: rt.name, benchmark: b, step: "skipped", message: why))
                }
                run.progress.finish(rt.name, "skipped", detail: why)
            }
        }
    }

    /// The namespace holds everything of the run: deleting it is the cleanup, always.
    private static func deleteNamespace(_ plan: Plan, _ settings: BenchPods.Settings, _ run: inout BenchRunner.Run)
        async
    {
        run.progress.update("cleanup", "deleting namespace \(settings.namespace)", detail: plan.cluster)
        let gone = try? await kubectl(
            plan, ["delete", "namespace", settings.namespace, "--ignore-not-found", "--wait=true", "--timeout=300s"],
            timeout: 360)
        if gone?.status == 0 {
            run.progress.finish("cleanup", "done")
        } else {
            let why =
                "namespace \(settings.namespace) was not deleted: \(BenchRunner.lastLine(gone?.stderr ?? "")); delete it with kubectl delete namespace \(settings.namespace)"
            run.failures.append(.init(machine: plan.cluster, benchmark: "-", step: "cleanup", message: why))
            run.progress.finish("cleanup", "failed", failed: true, detail: why)
        }
    }

    /// The steps every benchmark pod goes through: its manifests applied (and kept in `manifest`),
    /// the wait until it is ready, the pods of `runtime` described (in `description`, when given),
    /// `body` with the wait's result, then the pods deleted (not when `body` throws: the deletion
    /// of the namespace takes them).
    static func withPods<T>(
        _ pods: [BenchPods.Pod], _ plan: Plan, _ s: BenchPods.Settings, runtime: String, manifest: URL,
        description: URL?, _ run: inout BenchRunner.Run,
        _ body: (ChildProcess.Captured, inout BenchRunner.Run) async throws -> T
    ) async throws -> T {
        try await apply(plan, pods.map { BenchPods.pod($0, s) }, file: manifest)
        let ready = try await waitReady(plan, s, pods)
        if let description { keepPods(plan, s, label: "nestlab.dev/runtime=\(runtime)", file: description) }
        let result = try await body(ready, &run)
        try await deletePods(plan, s, pods)
        return result
    }

    /// One runtime: its two pods, every benchmark, then the pods go.
    static func measure(
        runtime rt: Testbed.RuntimeClass, _ plan: Plan, _ s: BenchPods.Settings, keep: URL,
        _ run: inout BenchRunner.Run
    ) async throws {
        let options = run.options
        let client = BenchPods.Pod(
            name: BenchPods.podName(runtime: rt.name, role: "client"), role: "client", runtime: rt.name,
            runtimeClassName: rt.runtimeClassName, node: plan.clientNode.name,
            controlPlane: plan.clientNode.role == "control-plane")
        let server = BenchPods.Pod(
            name: BenchPods.podName(runtime: rt.name, role: "server"), role: "server", runtime: rt.name,
            runtimeClassName: rt.runtimeClassName, node: plan.serverNode.name,
            controlPlane: plan.serverNode.role == "control-plane")
        let needServer = options.benchmarks.contains(where: BenchRunner.withServer.contains)
        let pods = needServer ? [client, server] : [client]
        let key = rt.name
        let each =
            options.benchmarks.reduce(0) { $0 + options.parameters.expectedSeconds(for: $1) } * Double(run.runsPerBench)
        run.progress.update(
            key, "starting pods",
            detail: "[\(options.environment)] on \(Set(pods.map(\.node)).sorted().joined(separator: ", "))")
        let measured = try await withPods(
            pods, plan, s, runtime: rt.name,
            manifest: keep.appendingPathComponent("pods-\(BenchRunner.safe(rt.name)).yaml"),
            description: keep.appendingPathComponent("pods-\(BenchRunner.safe(rt.name)).json"), &run
        ) { (ready, run) -> Bool in
            guard ready.status == 0 else {
                let why = "the pods did not become ready: \(BenchRunner.lastLine(ready.stderr))"
                for b in options.benchmarks {
                    run.failures.append(.init(machine: rt.name, benchmark: b, step: "pods", message: why))
                }
                run.left -= each
                run.progress.finish(key, "failed", failed: true, detail: why)
                return false
            }
            try await measureInPods(rt, client: client, server: needServer ? server : nil, plan, s, &run)
            run.progress.update(key, "deleting pods", detail: "[\(options.environment)]")
            return true
        }
        if measured { run.progress.finish(key, "done") }
    }

    /// Every benchmark of one runtime, with its pods ready.
    private static func measureInPods(
        _ rt: Testbed.RuntimeClass, client: BenchPods.Pod, server: BenchPods.Pod?, _ plan: Plan,
        _ s: BenchPods.Settings, _ run: inout BenchRunner.Run
    ) async throws {
        let benchmarks = run.options.benchmarks
        let clientTarget = try await target(client, plan, s)
        var serverTarget: BenchRunner.Target?
        if let server { serverTarget = try await target(server, plan, s) }
        let clientPlace = BenchRunner.RunPlace.new()
        let serverPlace = BenchRunner.RunPlace.new()
        var copied = await BenchRunner.copyScript(clientTarget, clientPlace, benchmarks: benchmarks, &run)
        if copied, let serverTarget {
            copied = await BenchRunner.copyScript(serverTarget, serverPlace, benchmarks: benchmarks, &run)
        }
        if copied {
            for bench in benchmarks {
                let server = BenchRunner.withServer.contains(bench) ? serverTarget.map { ($0, serverPlace) } : nil
                try await BenchRunner.measure(
                    bench, on: clientTarget, clientPlace, server: server, endpoint: nil, runtime: rt.name, &run)
            }
        }
        BenchRunner.finish(clientTarget.name, &run)
    }

    /// urunc: a unikernel runs one server and has no shell. For each benchmark with a unikernel
    /// image (`--unikernel redis=IMAGE`), that image runs under urunc's runtime class on the
    /// server node, and a client pod on the node's default runtime measures it at its port;
    /// the other benchmarks are skipped with the reason.
    static func measureUnikernels(
        runtime rt: Testbed.RuntimeClass, _ plan: Plan, _ s: BenchPods.Settings, keep: URL,
        _ run: inout BenchRunner.Run
    ) async throws {
        let options = run.options
        let key = rt.name
        let benches = unikernelBenchmarks(rt, plan, &run)
        guard !benches.isEmpty else { return }
        let client = BenchPods.Pod(
            name: BenchPods.podName(runtime: rt.name, role: "client"), role: "client", runtime: rt.name,
            runtimeClassName: nil, node: plan.clientNode.name, controlPlane: plan.clientNode.role == "control-plane")
        run.progress.update(key, "starting the client pod", detail: "[\(options.environment)] on \(client.node)")
        let failed = try await withPods(
            [client], plan, s, runtime: rt.name,
            manifest: keep.appendingPathComponent("pods-\(BenchRunner.safe(rt.name))-client.yaml"), description: nil,
            &run
        ) { (ready, run) -> String? in
            guard ready.status == 0 else {
                let why = "the client pod did not become ready: \(BenchRunner.lastLine(ready.stderr))"
                for b in benches {
                    run.failures.append(.init(machine: rt.name, benchmark: b, step: "pods", message: why))
                }
                return why
            }
            let clientTarget = try await target(client, plan, s)
            let place = BenchRunner.RunPlace.new()
            if await BenchRunner.copyScript(clientTarget, place, benchmarks: benches, &run) {
                for b in benches {
                    try await measureUnikernel(b, runtime: rt, clientTarget, place, plan, s, keep: keep, &run)
                }
            }
            BenchRunner.finish(clientTarget.name, &run)
            return nil
        }
        if let failed {
            run.progress.finish(key, "failed", failed: true, detail: failed)
        } else {
            run.progress.finish(key, "done")
        }
    }

    /// The benchmarks a unikernel can serve; the others are recorded as skipped, with the reason.
    private static func unikernelBenchmarks(
        _ rt: Testbed.RuntimeClass, _ plan: Plan, _ run: inout BenchRunner.Run
    ) -> [String] {
        var benches: [String] = []
        for b in run.options.benchmarks {
            if plan.unikernels[b] != nil {
                benches.append(b)
            } else {
                let why =
                    BenchPods.unikernelPorts[b] == nil
                    ? "\(b) has no server a unikernel could be" : "no unikernel image for \(b) (--unikernel \(b)=IMAGE)"
                run.skipped.append(.init(machine: rt.name, benchmark: b, step: "skipped", message: why))
                run.left -= run.options.parameters.expectedSeconds(for: b) * Double(run.runsPerBench)
            }
        }
        return benches
    }

    /// One benchmark against its unikernel server, which runs for it alone.
    private static func measureUnikernel(
        _ b: String, runtime rt: Testbed.RuntimeClass, _ clientTarget: BenchRunner.Target,
        _ place: BenchRunner.RunPlace, _ plan: Plan, _ s: BenchPods.Settings, keep: URL, _ run: inout BenchRunner.Run
    ) async throws {
        guard let image = plan.unikernels[b], let port = BenchPods.unikernelPorts[b] else { return }
        let server = BenchPods.Pod(
            name: BenchPods.podName(runtime: "\(rt.name)-\(b)", role: "server"), role: "server",
            runtime: rt.name, runtimeClassName: rt.runtimeClassName, node: plan.serverNode.name,
            controlPlane: plan.serverNode.role == "control-plane", unikernel: image)
        run.progress.update(rt.name, "\(b): starting the unikernel", detail: "[\(run.options.environment)] \(image)")
        try await withPods(
            [server], plan, s, runtime: rt.name,
            manifest: keep.appendingPathComponent("pods-\(BenchRunner.safe(rt.name))-\(b).yaml"),
            description: keep.appendingPathComponent("pods-\(BenchRunner.safe(rt.name))-\(b).json"), &run
        ) { (up, run) in
            let ip = try await kubectl(
                plan, ["-n", s.namespace, "get", "pod", server.name, "-o", "jsonpath={.status.podIP}"], timeout: 60)
            let address = ip.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if up.status == 0, !address.isEmpty {
                try await BenchRunner.measure(
                    b, on: clientTarget, place, server: nil, endpoint: (address, port), runtime: rt.name, &run)
            } else {
                run.fail(
                    rt.name, b, step: "server",
                    "the unikernel \(image) did not become ready: \(BenchRunner.lastLine(up.stderr))",
                    runsLeft: run.runsPerBench)
            }
        }
    }

    static func waitReady(_ plan: Plan, _ s: BenchPods.Settings, _ pods: [BenchPods.Pod]) async throws
        -> ChildProcess.Captured
    {
        try await kubectl(
            plan,
            ["-n", s.namespace, "wait", "--for=condition=Ready"] + pods.map { "pod/\($0.name)" } + ["--timeout=900s"],
            timeout: 960)
    }

    /// Keeps the pods as the API server describes them (node, runtime class, image digest).
    static func keepPods(_ plan: Plan, _ s: BenchPods.Settings, label: String, file: URL) {
        let argv = plan.kubectl + ["-n", s.namespace, "get", "pods", "-l", label, "-o", "json"]
        if let d = try? ChildProcess.capture(argv, timeout: 60), d.status == 0 {
            try? Data(d.stdout.utf8).write(to: file)
        }
    }

    /// How to run commands in a ready pod: `kubectl exec`, as root (the images' user), at its IP.
    /// The target is named after the node: samples say which node measured.
    static func target(_ pod: BenchPods.Pod, _ plan: Plan, _ s: BenchPods.Settings) async throws -> BenchRunner.Target {
        let ip = try await kubectl(
            plan, ["-n", s.namespace, "get", "pod", pod.name, "-o", "jsonpath={.status.podIP}"], timeout: 60)
        let address = ip.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var t = BenchRunner.Target(
            name: pod.node, ssh: plan.kubectl + ["-n", s.namespace, "exec", pod.name, "-c", "bench", "--"],
            isRoot: true, remoteShell: false, address: address.isEmpty ? nil : address)
        if plan.install { t.environment = ["BENCH_INSTALL=apt"] }
        return t
    }

    static func deletePods(_ plan: Plan, _ s: BenchPods.Settings, _ pods: [BenchPods.Pod]) async throws {
        _ = try await kubectl(
            plan,
            ["-n", s.namespace, "delete", "pod"] + pods.map(\.name) + [
                "--ignore-not-found", "--wait=true", "--timeout=300s",
            ],
            timeout: 360)
    }

    /// Writes the documents to `file` (kept with the results) and applies them.
    static func apply(_ plan: Plan, _ docs: [Yams.Node], file: URL) async throws {
        try Data(try BenchPods.yaml(docs).utf8).write(to: file)
        let r = try await kubectl(plan, ["apply", "-f", file.path], timeout: 120)
        guard r.status == 0 else {
            throw OperationError("kubectl apply -f \(file.path) failed: \(BenchRunner.lastLine(r.stderr))")
        }
    }

    static func kubectl(_ plan: Plan, _ args: [String], timeout: Double) async throws -> ChildProcess.Captured {
        let argv = plan.kubectl + args
        return try await Blocking.run { try ChildProcess.capture(argv, timeout: timeout) }
    }
}
