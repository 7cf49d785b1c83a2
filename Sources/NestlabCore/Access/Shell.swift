import Foundation

/// Quoting for a POSIX shell (`sh -c`, and the argument strings Ansible splits with shlex).
public enum Shell {
    public static func quote(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@+".contains($0)) }) {
            return s
        }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
