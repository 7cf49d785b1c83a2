/// XML escaping for text and single-quoted attributes.
public enum XMLEscape {
    public static func text(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            default: o.unicodeScalars.append(ch)
            }
        }
        return o
    }

    public static func attribute(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "'": o += "&apos;"
            case "\"": o += "&quot;"
            case "\n": o += "&#10;"
            case "\t": o += "&#9;"
            case "\r": o += "&#13;"
            default: o.unicodeScalars.append(ch)
            }
        }
        return o
    }
}
