import ArgumentParser
import Foundation
import NestlabCore
import NestlabKit

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
