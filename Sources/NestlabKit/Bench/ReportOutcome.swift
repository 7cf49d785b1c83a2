import Foundation
import NestlabCore

/// What `nestlab report` wrote.
public struct ReportOutcome: Codable, Sendable, Equatable {
    public var directory: String
    public var baseline: String
    public var samples: Int
    /// Every file written, in the order written (paths inside `directory`).
    public var files: [String]
    /// The chart PNGs among them.
    public var charts: [String]
}
