import ArgumentParser
import Foundation
import NestlabCore
import NestlabKit

@main
struct Entrypoint {
    static func main() async {
        await NestlabMain.run()
    }
}

/// `nestlab`: provision nested-Kubernetes testbeds on libvirt from a topology file.
struct Nestlab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nestlab",
        abstract: "Provision repeatable nested Kubernetes testbeds on libvirt/KVM.",
        discussion: """
            A topology file describes hosts, images, networks, tuning profiles, machines, \
            Kubernetes clusters and the benchmark hand-off. nestlab makes libvirt match it \
            (up), shows what it would do (plan), checks the host (preflight), reports what \
            runs (status) and removes exactly the lab's objects (down).

            Exit codes: 0 success, 1 an operation failed, 2 bad input (command line or topology). \
            Topology reference: docs/topology.md. Tuning knobs: docs/tuning.md.
            """,
        version: NestlabVersion.string,
        subcommands: [
            Validate.self, Plan.self, Preflight.self, Up.self, Status.self, Down.self, Rebuild.self, Snapshot.self,
            SSH.self, Exec.self, ConsoleCommand.self, SSHConfigCommand.self, Inventory.self, Bench.self, Report.self,
            Kubeconfig.self, Handoff.self,
            Cache.self,
        ]
    )
}

/// Maps errors to nestlab's exit codes: 2 for bad input, 1 for failed operations.
enum NestlabMain {
    static func run() async {
        Console.ignoreSIGPIPE()
        do {
            var command = try Nestlab.parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Nestlab.exitCode(for: error)
            if code == .success {
                Nestlab.exit(withError: error)  // --help, --version
            }
            if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
            if code == .validationFailure {
                // Command-line mistakes: argument-parser's message and usage, exit 2.
                Console.err(Nestlab.fullMessage(for: error))
                Foundation.exit(2)
            }
            // Topology findings already read "file:line:col: error: ..."; everything else gets the prefix.
            let text = String(describing: error)
            let prefixed = error is TopologyError ? text : "error: " + text
            Console.err(prefixed)
            Foundation.exit(NestlabExit.code(for: error))
        }
    }
}
