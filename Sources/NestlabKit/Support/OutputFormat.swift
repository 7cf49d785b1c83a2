import Foundation
import NestlabCore

/// How a command prints its result.
public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json
}
