import Foundation

/// Just enough XML reading for libvirt's answers: elements with their attributes, in order.
///
/// libvirt's XML is machine-written and well-formed; we only read a few attributes
/// and elements, so a full XML parser (and FoundationXML's libxml2 dependency) is
/// not needed.
enum MiniXML {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text: String
        var localName: String { name.split(separator: ":").last.map(String.init) ?? name }
    }

    static func elements(_ xml: String) -> [Element] {
        var out: [Element] = []
        let s = Array(xml.unicodeScalars)
        var i = 0
        while i < s.count {
            guard s[i] == "<" else {
                i += 1
                continue
            }
            let next = i + 1 < s.count ? s[i + 1] : " "
            if next == "/" || next == "?" || next == "!" {
                while i < s.count && s[i] != ">" { i += 1 }
                continue
            }
            var j = i + 1
            var name = ""
            while j < s.count, !CharacterSet.whitespacesAndNewlines.contains(s[j]), s[j] != ">", s[j] != "/" {
                name.unicodeScalars.append(s[j])
                j += 1
            }
            let attrs = attributes(s, at: &j)
            let selfClosing = j > 0 && s[j - 1] == "/"
            var text = ""
            if !selfClosing {
                var k = j + 1
                while k < s.count && s[k] != "<" {
                    text.unicodeScalars.append(s[k])
                    k += 1
                }
            }
            out.append(
                Element(
                    name: name, attributes: attrs, text: unescape(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            )
            i = j + 1
        }
        return out
    }

    /// The attributes of the tag whose name ends at `j`, up to its `>` (where `j` is left).
    private static func attributes(_ s: [Unicode.Scalar], at j: inout Int) -> [String: String] {
        var attrs: [String: String] = [:]
        while j < s.count && s[j] != ">" {
            if CharacterSet.whitespacesAndNewlines.contains(s[j]) || s[j] == "/" {
                j += 1
                continue
            }
            var key = ""
            while j < s.count, s[j] != "=", s[j] != ">", !CharacterSet.whitespacesAndNewlines.contains(s[j]) {
                key.unicodeScalars.append(s[j])
                j += 1
            }
            guard j < s.count, s[j] == "=" else { continue }
            j += 1
            guard j < s.count else { break }
            let quote = s[j]
            j += 1
            var value = ""
            while j < s.count && s[j] != quote {
                value.unicodeScalars.append(s[j])
                j += 1
            }
            j += 1
            attrs[key] = unescape(value)
        }
        return attrs
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else {
                out += rest[amp...]
                return out
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) {
                    out.unicodeScalars.append(u)
                } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
                    out.unicodeScalars.append(u)
                } else {
                    out += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// The first element named `name` (local name match).
    static func first(_ xml: String, _ name: String) -> Element? {
        elements(xml).first { $0.localName == name }
    }
}
