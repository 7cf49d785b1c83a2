import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tear a lab (or some machines) down and bring it back identically.",
            discussion: """
                When the lab has a golden state (`nestlab snapshot`), rebuild starts from the newest \
                one (or the one named by --from): each machine's disk is replaced by a fresh overlay \
                on its golden layer and booted; cloud-init does not run first boot again.

                Otherwise, or with --fresh: preflight first (nothing is torn down when the hosts \
                cannot take the lab), then down followed by up, reusing the base images already on \
                the hosts (nothing is downloaded again). With --machine, only those machines are \
                recreated; the rest of the lab, its networks and pools stay as they are.

                The progress names each step (from a golden state: check the golden state, replace \
                disks, bring up; fresh: tear down, bring up), then up's own steps.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        @Option(name: .long, help: ArgumentHelp("Rebuild only this machine (repeatable).", valueName: "name"))
        var machine: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp("Start from this golden state (default: the newest, if any).", valueName: "name"))
        var from: String?

        @Flag(name: .long, help: "Ignore golden states: full bring-up from the base images.")
        var fresh = false

        @OptionGroup(title: "Waiting for the guests") var wait: WaitOptions

        func validate() throws {
            if fresh && from != nil { throw ValidationError("--fresh and --from exclude each other") }
            if from != nil && !machine.isEmpty {
                throw ValidationError("--from restores the whole lab; it does not take --machine")
            }
        }

        func run() async throws {
            let o = wait.upOptions
            let flags = RunFlags(format: global.output, plain: global.plain, verbose: global.verbose)
            try await LifecycleCommands.rebuild(
                file: file, machines: machine, golden: from, fresh: fresh, options: o, flags: flags)
        }
    }
}
