import Foundation
import NestlabCore

/// `nestlab report RESULTS... --baseline ENV --out DIR`.
public enum ReportCommand {
    public static func run(inputs: [String], baseline: String, out: String, format: OutputFormat) throws {
        let outcome = try ReportWriter.write(inputs: inputs, baseline: baseline, out: out) { path in
            if format == .text { Console.out("wrote \(path)") }
        }
        if format == .json { Console.out(try JSONOutput.string(outcome)) }
    }
}
