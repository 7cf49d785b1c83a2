import Foundation
import NestlabCore
import Testing

/// `trimmingWhitespace()` replaces `trimmingCharacters(in: .whitespacesAndNewlines)` where nestlab
/// reads libvirt XML and SSH keys; it must give the same text.
@Suite struct WhitespaceTrimmingTests {
    /// Every kind of whitespace either call knows (and U+200B, which Foundation counts), at either end, inside, or nowhere; and a space before a combining mark, which Foundation trims scalar by scalar.
    static let spaces: [String] = [
        " ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{200A}",
        "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}",
    ]
    static let words: [String] = ["\u{301}", "a", "kvm", "x y", "é", "日本", "😀", "-", "<", "0", "\u{200B}", ""]

    @Test func itAgreesWithFoundationOnKnownCases() {
        let cases = [
            "", " ", "\n    \n  ", "hvm", "  hvm", "hvm  ", "\n      /var/lib/libvirt/images/x.qcow2\n    ",
            "a b", "\u{A0}a\u{A0}", "\u{2028}x", "x\u{3000}", "-----BEGIN OPENSSH PRIVATE KEY-----\r",
            "\u{200B}zero-width space is not whitespace\u{200B}",
        ]
        for c in cases {
            #expect(
                c.trimmingWhitespace() == c.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(c.unicodeScalars))")
            #expect(Substring(c).trimmingWhitespace() == c.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// 5,000 strings made of whitespace and words, from a fixed seed.
    @Test func itAgreesWithFoundationOnGeneratedStrings() {
        var rng = TopologyFuzzTests.Random(state: 0x5eed_7a1b)
        for _ in 0..<5000 {
            var s = ""
            for _ in 0..<rng.below(7) {
                let pool = rng.below(2) == 0 ? Self.spaces : Self.words
                s += pool[rng.below(pool.count)]
            }
            #expect(
                s.trimmingWhitespace() == s.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(s.unicodeScalars))")
        }
    }
}
