import Foundation
import NestlabCore

/// Exit codes: 0 success, 1 an operation failed, 2 bad input.
public enum NestlabExit {
    public static func code(for error: any Error) -> Int32 {
        if error is TopologyError || error is UsageError { return 2 }
        // The hand-off command's own exit code goes through (nestlab handoff is a wrapper).
        if let h = error as? HandoffError, let code = h.exitCode { return code }
        return 1
    }
}
