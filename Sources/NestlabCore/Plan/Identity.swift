import Crypto
import Foundation

/// Stable identifiers derived from names, so that re-runs converge on the same objects.
public enum Identity {
    /// A UUID (RFC 9562 version 8, name-based on SHA-256) for a lab object.
    public static func uuid(_ parts: String...) -> String {
        var b = Array(SHA256.hash(data: Data(("nestlab/" + parts.joined(separator: "/")).utf8)).prefix(16))
        b[6] = (b[6] & 0x0f) | 0x80
        b[8] = (b[8] & 0x3f) | 0x80
        let h = Array(hexString(b).utf8)
        let groups = [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]]
        return groups.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "-")
    }

    public static func hex(_ data: Data) -> String { hexString(SHA256.hash(data: data)) }
    public static func hex(_ s: String) -> String { hex(Data(s.utf8)) }
}
