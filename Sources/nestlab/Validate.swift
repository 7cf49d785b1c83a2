import ArgumentParser
import Foundation
import NestlabKit

extension Nestlab {
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a topology file and report every problem at once.",
            discussion: """
                Reports each problem as FILE:LINE:COL: error: KEY: what is wrong; what would be valid. \
                Warnings are for things that work but are probably unintended; they do not fail. \
                Exit code 2 when there are errors. Nothing is created.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        func run() async throws {
            let report = ValidateCommand.run(file: file)
            try report.print(format: global.output)
            if report.hasErrors { throw ExitCode(2) }
        }
    }
}
