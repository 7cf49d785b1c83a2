import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A program that could not be started: its name and the errno.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public let program: String
    public let code: Int32
    public var description: String { "cannot run \(program): \(String(cString: strerror(code)))" }
}
