import Foundation

/// Why a lab's `state.json` (`LabRecord`) could not be read.
public enum LabRecordError: Error, Equatable, CustomStringConvertible {
    /// Written by a newer nestlab, in a version this one does not understand.
    case newerVersion(file: String, version: Int, supported: Int)
    /// Not a record: not JSON, a field missing or of the wrong type.
    case malformed(file: String, problem: String)
    /// The file is there but could not be read.
    case unreadable(file: String, problem: String)

    public var description: String {
        switch self {
        case .newerVersion(let file, let version, let supported):
            return
                "\(file) is lab state version \(version), written by a newer nestlab; this nestlab reads version \(supported) at most: use a newer nestlab with this lab"
        case .malformed(let file, let problem):
            return
                "\(file) is not a valid lab state file: \(problem); remove it, and `nestlab up TOPOLOGY` writes it again"
        case .unreadable(let file, let problem):
            return "cannot read \(file): \(problem)"
        }
    }
}
