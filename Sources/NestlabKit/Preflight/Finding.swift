import Foundation
import Libvirt
import NestlabCore
import Spawn

/// One preflight finding: ok, warning or error, with the command that fixes it.
public struct Finding: Codable, Sendable {
    public enum Level: String, Codable, Sendable { case ok, warning, error }
    public var host: String
    public var check: String
    public var level: Level
    public var message: String
    public var fix: String?
}
