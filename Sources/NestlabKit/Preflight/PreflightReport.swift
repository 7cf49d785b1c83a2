import Foundation
import Libvirt
import NestlabCore
import Spawn

public struct PreflightReport: Codable, Sendable {
    public var lab: String?
    public var findings: [Finding]

    public var errorCount: Int { findings.filter { $0.level == .error }.count }
    public var hasErrors: Bool { errorCount > 0 }

    public func text(onlyProblems: Bool = false) -> String {
        var out = ""
        for f in findings where !onlyProblems || f.level != .ok {
            let mark = f.level == .ok ? "ok  " : (f.level == .warning ? "warn" : "FAIL")
            out += "[\(mark)] \(f.host): \(f.check): \(f.message)\n"
            if let fix = f.fix, f.level != .ok { out += "       fix: \(fix)\n" }
        }
        let w = findings.filter { $0.level == .warning }.count
        out += "\(errorCount) error\(errorCount == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")\n"
        return out
    }
}
