import Foundation

/// SHA-256 digests in the forms upstream projects publish them.
enum SHA256Digest {
    /// Lower-cases and checks a digest.
    static func normalize(_ digest: String) throws(CurlError) -> String {
        let lowered = digest.trimmingCharacters(in: .whitespaces).lowercased()
        guard isDigest(lowered) else { throw .invalidDigest(digest) }
        return lowered
    }

    static func isDigest(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
