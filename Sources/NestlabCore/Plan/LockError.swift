public enum LockError: Error, CustomStringConvertible {
    case unreadable(String, String)
    case mismatch(name: String, url: String, locked: String, actual: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let why): return "cannot read lock file \(p): \(why)"
        case .mismatch(let n, let u, let l, let a):
            return
                "digest mismatch for \(n) (\(u)): the lock file pins sha256 \(l), the download has \(a); if upstream changed the file on purpose, run `nestlab cache fetch --update-lock`"
        }
    }
}
