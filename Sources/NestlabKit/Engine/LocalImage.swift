import Crypto
import Foundation
import NestlabCore
import Synchronization

/// Where a base image's bytes are on this machine, and their identity.
public struct LocalImage: Sendable, Hashable {
    public var image: Image
    public var disk: LocalFile
    public var kernel: LocalFile?
    public var initrd: LocalFile?
}
