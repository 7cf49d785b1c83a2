import Foundation
import NestlabCore
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The lab log cannot be opened.
struct HandoffLogError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32
    var description: String { "cannot open log \(path): \(String(cString: strerror(errno)))" }
}
