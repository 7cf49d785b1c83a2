import ArgumentParser
import NestlabKit

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
