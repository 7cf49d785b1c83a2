import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Kubeconfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print or write the admin kubeconfig of a lab's cluster.",
            discussion: """
                The kubeconfig holds nestlab's admin client certificate (O=system:masters), signed \
                by the cluster CA that nestlab made before any VM existed, so it works as soon as \
                the API server answers. Printed to stdout, or written with mode 0600 by -o.
                """
        )

        @Argument(help: "The lab's name.")
        var lab: String

        @Argument(help: "The cluster (needed when the lab has several).")
        var cluster: String?

        @Option(
            name: .shortAndLong,
            help: ArgumentHelp("Write it to this file (mode 0600) instead of printing.", valueName: "file"))
        var output: String?

        func run() async throws {
            try KubeconfigCommand.run(lab: lab, cluster: cluster, output: output)
        }
    }
}
