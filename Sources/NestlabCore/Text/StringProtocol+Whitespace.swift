import Foundation

extension StringProtocol {
    /// The text without leading and trailing whitespace, exactly as
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gives it (scalar by scalar, with
    /// Foundation's own set), without the trip through `NSString` that made that call a
    /// measurable part of reading every libvirt XML element and every SSH key (nestlab-bench
    /// updown, perf). ASCII is decided without the set; text that needs no trimming, the common
    /// case, is returned after looking at its two ends.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !Self.isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !Self.isTrimmed($0) })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    private static func isTrimmed(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII { return s == " " || (0x09...0x0D).contains(s.value) }
        return CharacterSet.whitespacesAndNewlines.contains(s)
    }
}
