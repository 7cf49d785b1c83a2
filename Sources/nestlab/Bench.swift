import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the paper's benchmarks on machines over SSH, or in pods per runtime class of a cluster.",
            discussion: """
                iperf3, redis-benchmark, stress-ng, pgbench and fio run a warm-up (discarded), \
                then --repeat measurements. Every value becomes one line of \
                RESULTS/results.jsonl (docs/results.schema.json), labelled with --environment \
                and the runtime, pointing at the raw output it was parsed from (RESULTS/raw/). \
                Lines are appended: run bare metal and nested into one folder, then `nestlab \
                report`. Parameters (duration, sizes, threads) have the paper's defaults; \
                --params FILE overrides them (docs/handoff.md).

                Machines mode (default): the lab's machines and --ssh hosts, one after the \
                other, over SSH with strict host keys. They need the tools (Debian: iperf3 \
                redis-server redis-tools stress-ng postgresql fio). iperf3, redis and postgres \
                serve on each machine's 127.0.0.1, or from --server MACHINE across the network. \
                Samples are labelled --runtime (default none).

                Kubernetes mode (--kubernetes): for each runtime class of the cluster in the \
                lab's testbed.json (or --testbed FILE, or $NESTLAB_TESTBED in a hand-off), a \
                client pod and a server pod under that runtime class (Guaranteed: --pod-cpus \
                whole CPUs, --pod-memory), on the first two workers (or --nodes SERVER,CLIENT); \
                the same script runs in them with kubectl exec, the client measured against the \
                server pod's IP. Everything is in a namespace of the run, deleted at the end; the \
                applied manifests and the pods as the API server saw them are kept in raw/. \
                urunc runs unikernels: give a server image per benchmark with --unikernel \
                redis=IMAGE (a client pod on the default runtime measures it); without one, and \
                for KubeVirt (VMs), the runtime is skipped with the reason.

                Examples:
                  nestlab bench --ssh root@node1 --environment baremetal --results results
                  nestlab bench nested --machines worker1 --server worker2 --environment nested --results results
                  nestlab bench nested --kubernetes --runtime runc,kata-qemu --environment nested --results results
                  nestlab report results --baseline baremetal --out report
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A lab whose machines run the benchmarks (optional with --ssh).")
        var lab: String?

        @Option(name: .long, help: ArgumentHelp("Only these machines of the lab (comma-separated).", valueName: "a,b"))
        var machines: String?

        @Option(name: .long, help: ArgumentHelp("Only the lab's machines of this role.", valueName: "role"))
        var role: String?

        @Option(
            name: .customLong("ssh"),
            help: ArgumentHelp("Also run on this SSH destination (repeatable).", valueName: "user@host"))
        var sshTargets: [String] = []

        @Option(
            name: .customLong("ssh-option"),
            help: ArgumentHelp(
                "An option for ssh to --ssh hosts (repeatable), e.g. --ssh-option=-p2222.", valueName: "option"))
        var sshOptions: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Machines mode: serve iperf3, redis and postgres from this lab machine or SSH destination.",
                valueName: "machine"))
        var server: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The label of this run in the results, e.g. baremetal, nested, nested-mitigated.", valueName: "name"))
        var environment: String

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Machines mode: the runtime label (default none). Kubernetes mode: only these runtimes (comma-separated).",
                valueName: "name"))
        var runtime: String?

        @Flag(name: .long, help: "Kubernetes mode: pods per runtime class of the lab's cluster.")
        var kubernetes = false

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Kubernetes mode: the testbed.json to read (default: the lab's, or $NESTLAB_TESTBED).",
                valueName: "file"))
        var testbed: String?

        @Option(
            name: .long,
            help: ArgumentHelp("Kubernetes mode: the testbed's cluster (default: the first).", valueName: "name"))
        var cluster: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Kubernetes mode: the kubeconfig (default: the testbed's, else $KUBECONFIG).", valueName: "file"))
        var kubeconfig: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Kubernetes mode: the server's node and the measured client's (one name: both).",
                valueName: "server[,client]"))
        var nodes: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Kubernetes mode: the pods' image with the tools in it (default debian:12, tools installed at setup).",
                valueName: "image"))
        var image: String?

        @Option(
            name: .customLong("pod-cpus"),
            help: ArgumentHelp("Kubernetes mode: whole CPUs of each pod (requests = limits).", valueName: "n"))
        var podCPUs: Int = 2

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Kubernetes mode: a unikernel server for urunc (repeatable): redis=IMAGE or iperf3=IMAGE, built for the cluster's urunc monitors.",
                valueName: "bench=image"))
        var unikernel: [String] = []

        @Option(
            name: .customLong("pod-memory"),
            help: ArgumentHelp("Kubernetes mode: memory of each pod (requests = limits).", valueName: "quantity"))
        var podMemory: String = "4Gi"

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Only these benchmarks (comma-separated): iperf3, redis, stress-ng, pgbench, fio.", valueName: "list"))
        var bench: String?

        @Option(
            name: .customLong("repeat"),
            help: ArgumentHelp("Measurements per benchmark, after a discarded warm-up.", valueName: "n"))
        var repetitions: Int = 5

        @Option(
            name: .long,
            help: ArgumentHelp("Seconds per measurement (overrides --params and the default 60).", valueName: "seconds")
        )
        var duration: Int?

        @Option(
            name: .long, help: ArgumentHelp("A YAML file of parameters that override the defaults.", valueName: "file"))
        var params: String?

        @Option(
            name: .long,
            help: ArgumentHelp("The results folder (results.jsonl and raw/ are appended to).", valueName: "dir"))
        var results: String = "results"

        func run() async throws {
            var r = BenchCommands.Request(environment: environment)
            r.lab = lab
            r.machines = machines.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            r.role = role
            r.sshTargets = sshTargets
            r.sshOptions = sshOptions
            r.runtime = runtime
            r.server = server
            r.kubernetes = kubernetes
            r.testbed = testbed
            r.cluster = cluster
            r.kubeconfig = kubeconfig
            r.nodes = nodes.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            r.image = image
            r.podCPUs = podCPUs
            r.podMemory = podMemory
            r.unikernels = unikernel
            r.benchmarks = bench.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            r.repetitions = repetitions
            r.duration = duration
            r.paramsFile = params
            r.resultsDir = results
            try await BenchCommands.run(
                r, flags: RunFlags(format: global.output, plain: global.plain, verbose: global.verbose))
        }
    }
}
