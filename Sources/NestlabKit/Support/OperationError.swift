import Foundation
import NestlabCore

/// An operation that failed (exit 1), with a message that says where.
public struct OperationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
