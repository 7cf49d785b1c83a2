import Foundation
import NestlabCore

/// `nestlab validate FILE`: every finding of parsing and semantic checks.
public struct ValidateReport: Sendable {
    public var file: String
    public var diagnostics: [Diagnostic]
    public var topology: Topology?

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    struct JSON: Codable {
        var file: String
        var valid: Bool
        var lab: String?
        var machines: [String]?
        var diagnostics: [DiagnosticJSON]
    }

    public func print(format: OutputFormat) throws {
        switch format {
        case .json:
            let j = JSON(
                file: file, valid: !hasErrors, lab: topology?.name,
                machines: topology?.machines.flatMap(\.instanceNames), diagnostics: diagnostics.map(DiagnosticJSON.init)
            )
            Console.out(try JSONOutput.string(j))
        case .text:
            for d in diagnostics { Console.err(d.description) }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.count - errors
            if let t = topology, errors == 0 {
                let n = t.machines.reduce(0) { $0 + $1.instanceNames.count }
                Console.out(
                    "\(file): lab '\(t.name)' is valid: \(n) machine\(n == 1 ? "" : "s"), \(t.networks.count) network\(t.networks.count == 1 ? "" : "s"), \(t.clusters.count) cluster\(t.clusters.count == 1 ? "" : "s")"
                        + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
            } else {
                Console.err(
                    "\(file): \(errors) error\(errors == 1 ? "" : "s")"
                        + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : ""))
            }
        }
    }
}
