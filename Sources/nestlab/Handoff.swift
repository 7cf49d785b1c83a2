import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Handoff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the topology's benchmark runner against the lab.",
            discussion: """
                Runs handoff.command (no shell) in the topology's folder, or handoff.workdir, with \
                KUBECONFIG (the lab's admin kubeconfigs) and NESTLAB_TESTBED (the lab's testbed.json, \
                written by every successful up) set. Its output goes to the terminal and the lab's \
                log, and nestlab exits with its exit code. The testbed stays up either way. See \
                docs/handoff.md.
                """
        )

        @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        func run() async throws {
            let code = try await HandoffCommand.run(file: file)
            if code != 0 { throw ExitCode(code) }
        }
    }
}
