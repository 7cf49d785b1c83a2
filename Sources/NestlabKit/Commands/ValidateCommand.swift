import Foundation
import NestlabCore

public enum ValidateCommand {
    public static func run(file: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ValidateReport
    {
        do {
            let (t, warnings) = try TopologyParser(environment: environment, checksFiles: true).load(path: file)
            return ValidateReport(file: file, diagnostics: warnings, topology: t)
        } catch let e as TopologyError {
            return ValidateReport(file: file, diagnostics: e.diagnostics, topology: nil)
        } catch {
            return ValidateReport(
                file: file, diagnostics: [Diagnostic(.error, at: nil, path: "", "\(error)")], topology: nil)
        }
    }
}
