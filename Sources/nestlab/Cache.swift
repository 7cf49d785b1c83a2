import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The artifact cache: base images, Kubernetes binaries, CNI, runtimes and manifests.",
            discussion: """
                Downloads are content-addressed under $XDG_CACHE_HOME/nestlab (verified by SHA-256, \
                resumed when cut, never downloaded twice) and pinned in a lock file next to the \
                topology (NAME.lock), so a testbed can be rebuilt identically later and offline. \
                During up, cached cluster artifacts are served to the guests on the lab network.
                """,
            subcommands: [Fetch.self, List.self, Prune.self]
        )

        struct Fetch: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Download everything a topology needs and write its lock file.",
                discussion: """
                    Base images, kubeadm/kubelet/kubectl, crictl, the CNI manifest, containerd, Kata, \
                    urunc and KubeVirt at the topology's pinned versions. Digests come from the \
                    topology, then the lock file, then upstream checksum files; an artifact that \
                    has none is pinned by its first download. A download whose digest differs from \
                    the lock file's is an error naming both; --update-lock takes the new one.
                    """
            )
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
            var file: String
            @Flag(name: .long, help: "Resolve every artifact again and rewrite the lock file.")
            var updateLock = false

            func run() async throws {
                try await CacheCommands.fetch(file: file, updateLock: updateLock, format: global.output)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "ls", abstract: "Show what is cached, with sizes and which topologies use it.")
            @OptionGroup var global: GlobalOptions
            func run() async throws { try CacheCommands.list(format: global.output) }
        }

        struct Prune: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Free space: remove artifacts no topology uses (or everything with --all).")
            @OptionGroup var global: GlobalOptions
            @Flag(name: .long, help: "Remove every cached artifact.")
            var all = false
            func run() async throws { try await CacheCommands.prune(all: all, format: global.output) }
        }
    }
}
