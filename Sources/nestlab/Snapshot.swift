import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture a ready lab as a golden state, for rebuilds that cost little more than a boot.",
            discussion: """
                Shuts the machines down cleanly, turns each machine's disk into a read-only golden \
                qcow2 layer on its host, records the golden state with the topology and lock \
                digests, and starts the machines again on fresh overlays. `nestlab rebuild FILE` \
                then starts from the newest golden state (cloud-init does not run first boot again; \
                machines keep their identities and addresses). A golden state made from another \
                topology is refused, with what changed.
                """,
            subcommands: [Create.self, List.self, Remove.self],
            defaultSubcommand: Create.self
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "create", abstract: "Capture a golden state (the default).")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "A topology file, or the name of a lab brought up from one.")
            var target: String
            @Option(
                name: .long, help: ArgumentHelp("The golden state's name (default: golden-DATE).", valueName: "name"))
            var name: String?

            func run() async throws {
                try await SnapshotCommands.create(
                    target: target, name: name,
                    flags: RunFlags(format: global.output, plain: global.plain, verbose: global.verbose))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a lab's golden states.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "A topology file, or the name of a lab.")
            var target: String

            func run() async throws { try SnapshotCommands.list(target: target, format: global.output) }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "rm", abstract: "Delete a golden state and its layers.")
            @Argument(help: "A topology file, or the name of a lab.")
            var target: String
            @Argument(help: "The golden state to delete.")
            var name: String

            func run() async throws { try SnapshotCommands.remove(target: target, name: name) }
        }
    }
}
