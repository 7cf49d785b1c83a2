import Foundation
import NestlabCore
import Synchronization

/// Shared flags of the commands that change a lab.
public struct RunFlags: Sendable {
    public var format: OutputFormat = .text
    public var plain = false
    public var verbose = false

    public init(format: OutputFormat, plain: Bool, verbose: Bool) {
        self.format = format
        self.plain = plain
        self.verbose = verbose
    }

    func progress(log: URL?) -> ProgressView {
        var sink: (@Sendable (String) -> Void)?
        if let log {
            let logger = LabLog(file: log)
            sink = { logger.write($0) }
        }
        return ProgressView(mode: ProgressView.mode(json: format == .json, plain: plain), log: sink)
    }
}
