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
