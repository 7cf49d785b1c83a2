import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what `up` would create or change, without changing anything.",
            discussion: """
                Lists, per host, the pools, networks, base images and machines of the lab, marked
                + (create), = (unchanged), > (start), ~ (differs from the topology), ! (a foreign \
                object is in the way). libvirt is asked what exists; --offline skips that and \
                assumes host facts.

                --render DIR writes every file exactly as up sends it: domain, network, pool and \
                volume XML, and each machine's cloud-init user-data, meta-data, network-config \
                and seed ISO (mode 0600: seeds can hold cluster secrets). It creates the lab's \
                local secrets (SSH key, cluster PKI) if they do not exist yet, so that what is \
                rendered is what up will use.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        @Option(name: .long, help: ArgumentHelp("Write every rendered file into this folder.", valueName: "dir"))
        var render: String?

        @Flag(name: .long, help: "Do not contact libvirt; assume host facts (KVM works, one NUMA node).")
        var offline = false

        func run() async throws {
            try LabCommands.plan(file: file, renderDir: render, offline: offline, format: global.output)
        }
    }
}
