import Foundation
import Libvirt
import NestlabCore

/// Reads a host's public keys: the user's known_hosts first, then `ssh-keyscan`.
enum HostKeyReader {
    enum Keys: Equatable {
        case known([String])
        case scanned([String])
        case none(String)
    }

    static func keys(hostName: String, port: Int) -> Keys {
        let pattern = LabAccess.hostPattern(hostName, port)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let userFile = home + "/.ssh/known_hosts"
        if FileManager.default.fileExists(atPath: userFile),
            let r = try? ChildProcess.capture(["ssh-keygen", "-F", pattern, "-f", userFile], timeout: 10), r.status == 0
        {
            let k = parse(r.stdout)
            if !k.isEmpty { return .known(k) }
        }
        guard let r = try? ChildProcess.capture(["ssh-keyscan", "-T", "10", "-p", String(port), hostName], timeout: 30)
        else {
            return .none("ssh-keyscan could not run")
        }
        let k = parse(r.stdout)
        return k.isEmpty ? .none("ssh-keyscan got no key (exit \(r.status))") : .scanned(k)
    }

    /// `NAMES TYPE KEY [comment]` lines → `TYPE KEY`, without comments, hashed names or markers.
    static func parse(_ text: String) -> [String] {
        var out: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 3, !f[0].hasPrefix("@") else { continue }
            let key = "\(f[1]) \(f[2])"
            if !out.contains(key) { out.append(key) }
        }
        return out
    }
}
