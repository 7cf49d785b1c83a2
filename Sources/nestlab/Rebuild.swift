import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tear a lab (or some machines) down and bring it back identically.",
            discussion: """
                down followed by up, reusing the base images already on the hosts (nothing is
                downloaded again). With --machine, only those machines are recreated; the rest of
                the lab, its networks and pools stay as they are.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        @Option(name: .long, help: ArgumentHelp("Rebuild only this machine (repeatable).", valueName: "name"))
        var machine: [String] = []

        @Flag(name: .long, help: "Return once the VMs are started, without waiting for cloud-init.")
        var noWait = false

        @Option(name: .long, help: ArgumentHelp("Seconds to wait for each guest to report ready.", valueName: "seconds"))
        var timeout: Double = 900

        func run() async throws {
            var o = UpOptions()
            o.wait = !noWait
            o.readyTimeout = timeout
            try await LifecycleCommands.rebuild(file: file, machines: machine, options: o,
                                                flags: RunFlags(format: global.output, plain: global.plain, verbose: global.verbose))
        }
    }
}
