import Crypto
import Foundation
import NestlabCore
import Synchronization

public struct LocalFile: Sendable, Hashable {
    public var path: String
    public var sha256: String
    public var size: UInt64
}
