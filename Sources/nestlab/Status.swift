import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each machine of a lab as libvirt reports it.",
            discussion: """
                One row per machine: host, state, accelerator, addresses, the vCPU pinning libvirt \
                actually applied, hugepage size, and whether the guest reported ready. With a \
                topology file, machines that differ from it or are missing are reported too. \
                Without an argument, every lab with local state is shown.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A topology file, or the name of a lab.")
        var target: String?

        @Option(
            name: .long,
            help: ArgumentHelp("libvirt URI to use when the lab's topology is not known.", valueName: "uri"))
        var connect: String?

        func run() async throws {
            try await LifecycleCommands.status(target: target, connect: connect, format: global.output)
        }
    }
}
