import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the paper's benchmarks on a lab's machines or on SSH hosts (machines mode).",
            discussion: """
                iperf3, redis-benchmark, stress-ng, pgbench and fio run over SSH on each machine \
                in turn: a warm-up (discarded), then --repeat measurements. Every value becomes \
                one line of RESULTS/results.jsonl (docs/results.schema.json), labelled with \
                --environment and --runtime and pointing at the raw output it was parsed from \
                (RESULTS/raw/ENV/MACHINE/). Lines are appended: run bare metal and nested into \
                one folder, then `nestlab report`. The machines need the tools installed \
                (Debian: iperf3 redis-server redis-tools stress-ng postgresql fio); servers \
                listen on 127.0.0.1 and are stopped afterwards. Parameters (duration, sizes, \
                threads) have the paper's defaults; --params FILE overrides them (see \
                docs/handoff.md). Kubernetes runs (Jobs per RuntimeClass) are \
                topologies/bench/run's.

                Examples:
                  nestlab bench --ssh root@node1 --environment baremetal --results results
                  nestlab bench nested --machines worker1 --environment nested --results results
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

        @Option(name: .customLong("ssh"), help: ArgumentHelp("Also run on this SSH destination (repeatable).", valueName: "user@host"))
        var sshTargets: [String] = []

        @Option(name: .customLong("ssh-option"), help: ArgumentHelp("An option for ssh to --ssh hosts (repeatable), e.g. --ssh-option=-p2222.", valueName: "option"))
        var sshOptions: [String] = []

        @Option(name: .long, help: ArgumentHelp("The label of this run in the results, e.g. baremetal, nested, nested-mitigated.", valueName: "name"))
        var environment: String

        @Option(name: .long, help: ArgumentHelp("The runtime label (none for a machine without Kubernetes).", valueName: "name"))
        var runtime: String = "none"

        @Option(name: .long, help: ArgumentHelp("Only these benchmarks (comma-separated): iperf3, redis, stress-ng, pgbench, fio.", valueName: "list"))
        var bench: String?

        @Option(name: .customLong("repeat"), help: ArgumentHelp("Measurements per benchmark, after a discarded warm-up.", valueName: "n"))
        var repetitions: Int = 5

        @Option(name: .long, help: ArgumentHelp("Seconds per measurement (overrides --params and the default 60).", valueName: "seconds"))
        var duration: Int?

        @Option(name: .long, help: ArgumentHelp("A YAML file of parameters that override the defaults.", valueName: "file"))
        var params: String?

        @Option(name: .long, help: ArgumentHelp("The results folder (results.jsonl and raw/ are appended to).", valueName: "dir"))
        var results: String = "results"

        func run() async throws {
            var r = BenchCommands.Request(environment: environment)
            r.lab = lab
            r.machines = machines.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            r.role = role
            r.sshTargets = sshTargets
            r.sshOptions = sshOptions
            r.runtime = runtime
            r.benchmarks = bench.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            r.repetitions = repetitions
            r.duration = duration
            r.paramsFile = params
            r.resultsDir = results
            try await BenchCommands.run(r, flags: RunFlags(format: global.output, plain: global.plain, verbose: global.verbose))
        }
    }
}
