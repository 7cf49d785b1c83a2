import Foundation
import NestlabCore
import Synchronization

public struct PreflightFailed: Error, CustomStringConvertible {
    public var errors: Int
    public var description: String {
        "preflight found \(errors) problem\(errors == 1 ? "" : "s") (above); nothing was created. Fix them, or run `nestlab preflight` for the full report"
    }
}
