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
        "How many VMs boot at once per host: auto (on a TCG host, only as many as its CPUs can run: a boot there slows down several times when vCPUs outnumber CPUs; no limit under KVM), none, or a number. Cluster members always boot together.",
        valueName: "auto|none|N")
    let value: BootLimit
    init(_ value: BootLimit) { self.value = value }
    init?(argument: String) {
        guard let v = BootLimit(argument: argument) else { return nil }
        value = v
    }
    var defaultValueDescription: String { value.description }
}
