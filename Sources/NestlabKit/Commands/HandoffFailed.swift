import Foundation
import NestlabCore
import Synchronization

public struct HandoffFailed: Error, CustomStringConvertible {
    public var code: Int32
    public var description: String { "the hand-off command exited with \(code); the testbed stays up" }
}
