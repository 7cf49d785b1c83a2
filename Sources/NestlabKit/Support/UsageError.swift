import Foundation
import NestlabCore

/// Bad input that is not a topology finding (e.g. an unknown lab name).
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
