import ArgumentParser
import NestlabKit

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text for people, json for scripts.")
    var output: OutputFormat = .text

    @Flag(name: [.short, .long], help: "Log more detail (libvirt calls, timings).")
    var verbose = false

    @Flag(name: .long, help: "Never draw live progress, even on a terminal.")
    var plain = false
}

extension OutputFormat: ExpressibleByArgument {}

/// `--boot-limit auto|none|N` (up and rebuild).
struct BootLimitArgument: ExpressibleByArgument {
    static let help = ArgumentHelp(
        "How many VMs boot at once per host: auto (on a TCG host, only as many as its CPUs can run: a boot there slows down several times when vCPUs outnumber CPUs; no limit under KVM), none, or a number. VMs that wait start in the topology's order. Cluster members always boot together.",
        valueName: "auto|none|N")
    let value: BootLimit
    init(_ value: BootLimit) { self.value = value }
    init?(argument: String) {
        guard let v = BootLimit(argument: argument) else { return nil }
        value = v
    }
    var defaultValueDescription: String { value.description }
}

/// How `up` and `rebuild` wait for the guests they start.
struct WaitOptions: ParsableArguments {
    @Flag(name: .long, help: "Return once the VMs are started, without waiting for cloud-init.")
    var noWait = false

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each guest to report ready.", valueName: "seconds"))
    var timeout: Double = 900

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds of console silence, before the guest kernel starts init, that count as a hung boot: the guest is reset once, then fails. 0 turns the check off.",
            valueName: "seconds"))
    var bootStall: Double = 120

    @Option(name: .long, help: BootLimitArgument.help)
    var bootLimit: BootLimitArgument = BootLimitArgument(.auto)

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds to wait, once a cluster's nodes have run their scripts, for its API server and every node to be Ready.",
            valueName: "seconds"))
    var clusterTimeout: Double = 600

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard clusterTimeout > 0 else { throw ValidationError("--cluster-timeout must be positive") }
        guard bootStall >= 0 else { throw ValidationError("--boot-stall must be 0 (off) or positive") }
    }

    /// Up options with these set.
    var upOptions: UpOptions {
        var o = UpOptions()
        o.wait = !noWait
        o.readyTimeout = timeout
        o.clusterTimeout = clusterTimeout
        o.bootStallSeconds = bootStall
        o.bootLimit = bootLimit.value
        return o
    }
}
