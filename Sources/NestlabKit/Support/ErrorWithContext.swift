import Dispatch
import Foundation
import Synchronization

/// An error with what nestlab was doing when it happened:
/// "while creating overlay ci-vm-0.qcow2 on local: <libvirt error>".
public struct ErrorWithContext: Error, CustomStringConvertible, Sendable {
    public var context: String
    public var underlying: any Error

    public init(_ context: String, _ underlying: any Error) {
        self.context = context
        self.underlying = underlying
    }

    public var description: String { "while \(context): \(underlying)" }
}

extension ErrorWithContext {
    /// Runs `body`, wrapping any error with `context`.
    public static func wrap<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ErrorWithContext { throw e } catch {
            throw ErrorWithContext(context(), error)
        }
    }
}
