import Foundation

public enum StateError: Error, CustomStringConvertible {
    case busy(lab: String, holder: String)
    case cannotLock(String, errno: Int32)

    public var description: String {
        switch self {
        case .busy(let lab, let holder):
            return
                "lab '\(lab)' is busy: another nestlab run holds its lock (\(holder)); wait for it to finish, or stop it"
        case .cannotLock(let p, let e): return "cannot lock \(p): \(String(cString: strerror(e)))"
        }
    }
}
