import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

/// Issue 19, Kubernetes mode: what it applies (exactly), and how it chooses the cluster, the
/// runtimes and the nodes from testbed.json. The pods run the same bench-node.sh as machines
/// mode, through a transport that passes words as they are (BenchRunnerTests proves that path
/// on this host); no cluster runs here, so kubectl itself is not exercised.
@Suite struct KubernetesBenchTests {
    typealias S = HandoffTestSupport

    static let settings = BenchPods.Settings(
        namespace: "nestlab-bench-0a1b2c3d", runID: "0a1b2c3d", image: BenchPods.defaultImage,
        cpus: 2, memory: "4Gi")

    static let expectedPod = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: nestlab-bench-0a1b2c3d
          labels:
            app.kubernetes.io/managed-by: nestlab
            app.kubernetes.io/part-of: nestlab-bench
            nestlab.dev/bench-run: 0a1b2c3d
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: bench-kata-client
          namespace: nestlab-bench-0a1b2c3d
          labels:
            app.kubernetes.io/managed-by: nestlab
            app.kubernetes.io/part-of: nestlab-bench
            nestlab.dev/bench-run: 0a1b2c3d
            nestlab.dev/runtime: kata
            nestlab.dev/role: client
        spec:
          runtimeClassName: kata-qemu
          nodeSelector:
            kubernetes.io/hostname: cp
          tolerations:
          - key: node-role.kubernetes.io/control-plane
            operator: Exists
            effect: NoSchedule
          restartPolicy: Never
          terminationGracePeriodSeconds: 5
          enableServiceLinks: false
          containers:
          - name: bench
            image: docker.io/library/debian:12
            imagePullPolicy: IfNotPresent
            command:
            - sh
            - -c
            - trap 'kill $! 2>/dev/null; exit 0' TERM INT; while :; do sleep 3600 & wait $!; done
            resources:
              requests:
                cpu: "2"
                memory: 4Gi
              limits:
                cpu: "2"
                memory: 4Gi
            volumeMounts:
            - name: scratch
              mountPath: /var/tmp
          volumes:
          - name: scratch
            emptyDir: {}

        """

    @Test func aPodIsRenderedExactly() throws {
        let pod = BenchPods.Pod(
            name: "bench-kata-client", role: "client", runtime: "kata", runtimeClassName: "kata-qemu",
            node: "cp", controlPlane: true)
        let text = try BenchPods.yaml([BenchPods.namespace(Self.settings), BenchPods.pod(pod, Self.settings)])
        #expect(text == Self.expectedPod)
        // runc is the node's default handler: no runtimeClassName; a worker needs no toleration.
        let runc = BenchPods.Pod(
            name: "bench-runc-server", role: "server", runtime: "runc", runtimeClassName: nil, node: "worker1",
            controlPlane: false)
        let plain = try BenchPods.yaml([BenchPods.pod(runc, Self.settings)])
        // A unikernel runs its own image as it is: no wait loop, no scratch volume.
        var uni = runc
        uni.unikernel = "harbor.example/urunc/redis-qemu:1"
        let unikernel = try BenchPods.yaml([BenchPods.pod(uni, Self.settings)])
        #expect(
            unikernel.contains("image: harbor.example/urunc/redis-qemu:1") && !unikernel.contains("command:")
                && !unikernel.contains("volumes:"))
        #expect(!plain.contains("runtimeClassName") && !plain.contains("tolerations"))
        #expect(plain.contains("kubernetes.io/hostname: worker1") && plain.contains("nestlab.dev/role: server"))
    }

    /// What Kubernetes mode applies, strictly valid at the paper's Kubernetes version (issue 22's
    /// harness: upstream's OpenAPI schemas, unknown fields and wrong types are errors): the
    /// namespace, and client and server pods with and without a runtime class and toleration.
    @Test func whatItAppliesIsValidForKubernetes133() throws {
        try #require(K8sSchema.isInstalled, "\(K8sSchema.missingMessage)")
        let dir = try S.temporaryDirectory("k8s-bench-schema")
        var files: [URL] = []
        let pods = [
            BenchPods.Pod(
                name: "bench-kata-qemu-client", role: "client", runtime: "kata-qemu", runtimeClassName: "kata-qemu",
                node: "cp",
                controlPlane: true),
            BenchPods.Pod(
                name: "bench-runc-server", role: "server", runtime: "runc", runtimeClassName: nil, node: "worker1",
                controlPlane: false),
            BenchPods.Pod(
                name: "bench-urunc-redis-server", role: "server", runtime: "urunc", runtimeClassName: "urunc",
                node: "worker1",
                controlPlane: false, unikernel: "harbor.example/urunc/redis-qemu:1"),
        ]
        let settings = BenchPods.Settings(
            namespace: "nestlab-bench-12345678", runID: "12345678",
            image: "registry.example:5000/bench@sha256:"
                + String(repeating: "a", count: 64), cpus: 4, memory: "512Mi")
        for (i, docs) in [[BenchPods.namespace(settings)], pods.map { BenchPods.pod($0, settings) }].enumerated() {
            let f = dir.appendingPathComponent("bench-\(i).yaml")
            try BenchPods.yaml(docs).write(to: f, atomically: true, encoding: .utf8)
            files.append(f)
        }
        let results = try K8sSchema.validate(files: files, version: "1.33")
        #expect(results.count == 2)
        for r in results { #expect(r.ok, "\(r)") }
        #expect(results.flatMap(\.passed).count == 4, "\(results)")
    }

    /// The container's command is what the pod runs until it is deleted: it must be valid sh and
    /// end on SIGTERM at once (the pod's grace period is 5 s).
    @Test func thePodsWaitAndEndOnSIGTERM() throws {
        // The pod's command in the background, TERM after half a second: it exits 0, leaving no
        // sleep running (a killed one may stay a zombie until whoever inherited it reaps it).
        let script =
            "sh -c \"$0\" & p=$!; sleep 0.5; c=$(pgrep -P $p sleep) || exit 90; kill -TERM $p; wait $p; echo status=$?; sleep 0.2; s=$(ps -o stat= -p $c); case $s in ''|Z*) ;; *) kill $c; echo orphan ;; esac; exit 0"
        let r = try ChildProcess.capture(["sh", "-c", script, BenchPods.waitForever], timeout: 30)
        #expect(r.status == 0 && !r.timedOut, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout == "status=0\n", "\(r.stdout)\(r.stderr)")
    }

    @Test func podNamesAreDNSLabelsWhateverTheRuntimeName() {
        var seen = Set<String>()
        for length in [1, 10, 40, 50, 52, 53, 60, 63] {
            let runtime = String(repeating: "k", count: length - 1) + "\(length % 10)"
            for role in ["client", "server"] {
                let name = BenchPods.podName(runtime: runtime, role: role)
                #expect(
                    name.count <= 63 && name.range(of: BenchPods.namePattern, options: .regularExpression) != nil,
                    "\(name)")
                #expect(seen.insert(name).inserted, "\(name) twice")
            }
        }
        #expect(BenchPods.podName(runtime: "kata-qemu", role: "client") == "bench-kata-qemu-client")
    }

    @Test func runtimesThatCannotRunTheToolsInAPodAreSkippedWithTheReason() {
        #expect(BenchPods.unsupported(runtime: "runc", kind: "pod") == nil)
        #expect(BenchPods.unsupported(runtime: "kata", kind: "pod") == nil)
        #expect(BenchPods.unsupported(runtime: "kubevirt", kind: "vm")?.contains("machines mode") == true)
        #expect(BenchPods.unsupported(runtime: "urunc", kind: "pod")?.contains("--unikernel redis=IMAGE") == true)
        #expect(BenchPods.unsupported(runtime: "urunc", kind: "pod", unikernels: ["redis": "r/x:1"]) == nil)
    }

    // MARK: choosing from testbed.json

    static func request(_ testbed: URL) -> BenchCommands.Request {
        var r = BenchCommands.Request(environment: "nested")
        r.kubernetes = true
        r.testbed = testbed.path
        r.kubeconfig = "/dev/null"
        return r
    }

    @Test func theTestbedSaysWhichRuntimesNodesAndKubeconfig() throws {
        let dir = try S.temporaryDirectory("k8s-bench")
        let tb = try TopologiesBenchSupport.testbedFile("nested-default", in: dir)
        var r = Self.request(tb)
        let (plan, options) = try BenchCommands.prepareKubernetes(r, environment: [:])
        #expect(plan.cluster == "nested")
        #expect(plan.runtimes.map(\.name) == ["runc", "kata-qemu", "urunc", "kubevirt"])
        // The first worker serves, the second is measured: network benchmarks cross the cluster network.
        #expect(plan.serverNode.name == "worker1" && plan.clientNode.name == "worker2")
        #expect(plan.kubectl == ["kubectl", "--kubeconfig", "/dev/null"])
        #expect(plan.image == BenchPods.defaultImage && plan.install && plan.cpus == 2 && plan.memory == "4Gi")
        #expect(options.environment == "nested" && options.repetitions == 5)

        r.runtime = "kata-qemu,runc"
        r.nodes = ["cp"]
        r.image = "registry.example/bench:1"
        r.kubeconfig = nil
        let (narrow, _) = try BenchCommands.prepareKubernetes(r, environment: ["KUBECONFIG": "/tmp/kc"])
        #expect(narrow.runtimes.map(\.name) == ["runc", "kata-qemu"], "the testbed's order")
        #expect(narrow.serverNode.name == "cp" && narrow.clientNode.name == "cp")
        #expect(!narrow.install, "an image of the user's has its tools")
        #expect(
            narrow.kubectl == ["kubectl", "--kubeconfig", "/tmp/kc"],
            "the testbed's kubeconfig is not readable here: KUBECONFIG")

        // The hand-off gives the testbed in NESTLAB_TESTBED.
        r.testbed = nil
        let (fromEnv, _) = try BenchCommands.prepareKubernetes(
            r, environment: ["NESTLAB_TESTBED": tb.path, "KUBECONFIG": "/tmp/kc"])
        #expect(fromEnv.cluster == "nested")
    }

    @Test func badInputIsRefusedBeforeKubectlRuns() throws {
        let dir = try S.temporaryDirectory("k8s-bench-bad")
        let tb = try TopologiesBenchSupport.testbedFile("nested-default", in: dir)
        func message(_ change: (inout BenchCommands.Request) -> Void) -> String {
            var r = Self.request(tb)
            change(&r)
            do {
                _ = try BenchCommands.prepareKubernetes(r, environment: [:])
                return "no error"
            } catch let e as UsageError {
                return e.description
            } catch { return "other: \(error)" }
        }
        #expect(message { _ in } == "no error")
        #expect(
            message { $0.runtime = "gvisor" }
                == "no runtime 'gvisor' in cluster nested; its runtimes: runc, kata-qemu, urunc, kubevirt")
        #expect(message { $0.runtime = "Kata" }.hasPrefix("--runtime 'Kata' must be"))
        #expect(message { $0.cluster = "other" } == "no cluster 'other' in \(tb.path); clusters: nested")
        #expect(
            message { $0.nodes = ["worker9"] } == "no node 'worker9' in cluster nested; nodes: cp, worker1, worker2")
        #expect(
            message { $0.nodes = ["cp", "worker1", "worker2"] }
                == "--nodes takes one or two node names: SERVER[,CLIENT]")
        #expect(message { $0.podCPUs = 0 } == "--pod-cpus must be a whole number of CPUs from 1 to 512")
        #expect(message { $0.podMemory = "4GB" }.hasPrefix("--pod-memory '4GB' must be a Kubernetes quantity"))
        #expect(message { $0.podMemory = "４Gi" }.hasPrefix("--pod-memory"), "full-width digits are not a quantity")
        #expect(
            message { $0.image = "debian:12; rm -rf /" }.hasPrefix(
                "--image 'debian:12; rm -rf /' is not an image reference"))
        #expect(message { $0.sshTargets = ["root@h"] }.hasPrefix("--ssh is for machines mode"))
        #expect(message { $0.server = "vm-0" }.hasPrefix("--server is for machines mode"))
        #expect(message { $0.unikernels = ["redis=harbor.example/redis:1"] } == "no error")
        #expect(
            message { $0.unikernels = ["fio=x/y:1"] }.hasPrefix(
                "--unikernel 'fio=x/y:1' must be BENCH=IMAGE with BENCH one of iperf3, redis"))
        #expect(message { $0.unikernels = ["redis"] }.hasPrefix("--unikernel 'redis' must be"))
        #expect(message { $0.unikernels = ["redis=a b"] }.hasPrefix("--unikernel 'redis=a b' must be"))
        #expect(
            message { $0.testbed = dir.appendingPathComponent("none.json").path }.hasPrefix("cannot read the testbed"))
        #expect(message { $0.kubeconfig = nil }.hasPrefix("no kubeconfig:"))
        let garbage = dir.appendingPathComponent("garbage.json")
        try Data("{\"schemaVersion\": 1}".utf8).write(to: garbage)
        #expect(
            message { $0.testbed = garbage.path }.hasPrefix("\(garbage.path) is not a testbed.json nestlab can read"))
        #expect(message { $0.testbed = nil }.hasPrefix("give a lab, or --testbed FILE"))

        // Kubernetes flags without --kubernetes are refused in machines mode.
        var m = BenchCommands.Request(environment: "nested")
        m.sshTargets = ["root@h"]
        m.nodes = ["cp"]
        #expect(throws: UsageError.self) { try BenchCommands.prepare(m) }
        #expect((try? BenchCommands.requireKubectl(["PATH": dir.path])) == nil, "no kubectl on that PATH")
    }

    /// The paper topologies' hand-off command, topologies/bench/run, is `nestlab bench
    /// --kubernetes` on the handed-over testbed: its arguments (and BENCH_DURATION) reach the
    /// real nestlab, which checks them (exit 2) and needs kubectl and a cluster it reaches (exit 1
    /// without, and nothing written).
    @Test func theHandoffScriptIsNestlabsKubernetesMode() throws {
        let nestlab = try #require(S.nestlabBinary, "build nestlab first")
        let dir = try S.temporaryDirectory("k8s-bench-handoff")
        let tb = try TopologiesBenchSupport.testbedFile("nested-default", in: dir)
        let env = [
            "PATH": "/usr/bin:/bin", "NESTLAB_TESTBED": tb.path, "NESTLAB_BIN": nestlab.path, "KUBECONFIG": "/dev/null",
            "NESTLAB_STATE_DIR": dir.path,
        ]
        let bad = try S.run([S.runner.path, "--environment", "nested", "--runtime", "gvisor"], environment: env)
        #expect(bad.status == 2 && bad.stderr.contains("no runtime 'gvisor' in cluster nested"), "\(bad.stderr)")
        var slow = env
        slow["BENCH_DURATION"] = "0"
        let duration = try S.run([S.runner.path, "--environment", "nested"], environment: slow)
        #expect(
            duration.status == 2 && duration.stderr.contains("--duration must be from 1 to 86400"), "\(duration.stderr)"
        )
        let unreachable = try S.run(
            [S.runner.path, "--environment", "nested", "--results", dir.appendingPathComponent("r").path],
            environment: env)
        // Without kubectl: said so. With it (some machines have one): the real kubectl cannot reach
        // a cluster through an empty kubeconfig, and the error names the cluster.
        let hasKubectl = (try? BenchCommands.requireKubectl(["PATH": "/usr/bin:/bin"])) != nil
        let expected = hasKubectl ? "cannot reach cluster nested with kubectl" : "kubectl is not installed"
        #expect(
            unreachable.status == 1 && unreachable.stderr.contains(expected),
            "\(unreachable.stderr)\(unreachable.stdout)")
        #expect(
            !FileManager.default.fileExists(atPath: dir.appendingPathComponent("r").path),
            "nothing written before kubectl runs")
        var unset = env
        unset["NESTLAB_TESTBED"] = nil
        let none = try S.run([S.runner.path, "--environment", "nested"], environment: unset)
        #expect(none.status == 2 && none.stderr.contains("NESTLAB_TESTBED is not set"), "\(none.stderr)")
    }

    /// A testbed without a cluster (bare VMs) has nothing for Kubernetes mode.
    @Test func aLabWithoutAClusterSaysSo() throws {
        let dir = try S.temporaryDirectory("k8s-bench-nocluster")
        let tb = try TopologiesBenchSupport.testbedFile("ci", in: dir)
        #expect(throws: UsageError.self) { try BenchCommands.prepareKubernetes(Self.request(tb), environment: [:]) }
        do { _ = try BenchCommands.prepareKubernetes(Self.request(tb), environment: [:]) } catch {
            #expect("\(error)".contains("lists no cluster"), "\(error)")
        }
    }
}

/// Writes testbed.json files of shipped topologies (as `up` would record them).
enum TopologiesBenchSupport {
    static func testbedFile(_ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("testbed.json")
        try HandoffTestSupport.testbed(name).write(to: url)
        return url
    }
}
