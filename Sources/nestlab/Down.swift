import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove exactly the lab's objects from libvirt; nothing else.",
            discussion: """
                Destroys and undefines the domains tagged with the lab, deletes the volumes in the \
                lab's own storage pool and the pool, and removes the networks whose UUID nestlab \
                derived for this lab. Objects that only look like the lab's (same name prefix, other \
                UUID, no tag) are kept and listed. Base images stay cached for the next up.

                --purge also deletes base images no other domain uses, and the lab's local state \
                (SSH key, cluster PKI, kubeconfigs, logs, golden snapshots).
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A topology file, or the name of a lab.")
        var target: String

        @Flag(name: .long, help: "Also remove unused base images and the lab's local state.")
        var purge = false

        @Option(
            name: .long,
            help: ArgumentHelp("libvirt URI to use when the lab's topology is not known.", valueName: "uri"))
        var connect: String?

        func run() async throws {
            try await LifecycleCommands.down(
                target: target, connect: connect, purge: purge,
                flags: RunFlags(format: global.output, plain: global.plain, verbose: global.verbose))
        }
    }
}
