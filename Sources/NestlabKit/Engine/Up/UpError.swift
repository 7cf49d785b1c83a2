import Foundation

/// Why `up` stopped: foreign objects in the way, machines that failed, or Ctrl-C.
public enum UpError: Error, CustomStringConvertible {
    case conflicts([String])
    case failed(UpReport, reasons: [String])
    case interrupted(created: Int)

    public var description: String {
        switch self {
        case .conflicts(let c):
            return "nothing was created, because these objects exist but do not belong to this lab:\n  "
                + c.joined(separator: "\n  ")
                + "\nrename or remove them, or give the lab another name"
        case .failed(_, let reasons):
            return reasons.joined(separator: "\n")
                + "\neverything up created is tagged with the lab: `nestlab down` removes it, `nestlab up` again converges"
        case .interrupted(let n):
            return
                "interrupted after creating \(n) object(s); all are tagged with the lab: `nestlab up` resumes, `nestlab down` removes them"
        }
    }
}
