import Foundation
import NestlabCore

/// A diagnostic in JSON form.
public struct DiagnosticJSON: Codable, Sendable {
    public var severity: String
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var path: String
    public var message: String
    public var hint: String?

    public init(_ d: Diagnostic) {
        severity = d.severity.rawValue
        file = d.location?.file
        line = d.location?.line
        column = d.location?.column
        path = d.path
        message = d.message
        hint = d.hint
    }
}
