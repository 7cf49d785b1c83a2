import Foundation
import NestlabCore

/// What a domain's nestlab `<metadata>` element says: which lab and machine it
/// belongs to, its spec, its volumes, and whether nestlab saw it become ready.
public struct LabMetadata: Sendable, Hashable {
    public var lab: String
    public var machine: String
    public var cluster: String?
    public var spec: MachineSpec
    public var specDigest: String
    public var volumes: [(role: String, pool: String, name: String)]
    /// The cloud-init instance id nestlab saw reach `ready`, if any.
    public var readyInstance: String?

    public static func == (a: LabMetadata, b: LabMetadata) -> Bool {
        a.lab == b.lab && a.machine == b.machine && a.specDigest == b.specDigest && a.readyInstance == b.readyInstance
    }

    public func hash(into h: inout Hasher) {
        h.combine(lab)
        h.combine(machine)
        h.combine(specDigest)
    }

    public func volume(_ role: String) -> (pool: String, name: String)? {
        volumes.first { $0.role == role }.map { ($0.pool, $0.name) }
    }

    /// Parses the element libvirt returns for nestlab's namespace (any prefix, either quote style).
    public static func parse(_ xml: String) -> LabMetadata? {
        let elements = MiniXML.elements(xml)
        guard let root = elements.first(where: { $0.localName == NestlabXMLNS.key }),
              let lab = root.attributes["lab"], let machine = root.attributes["machine"] else { return nil }
        var fields: [(String, String)] = []
        var digest = ""
        var volumes: [(String, String, String)] = []
        var ready: String?
        for e in elements {
            switch e.localName {
            case "spec": digest = e.attributes["digest"] ?? ""
            case "field": if let n = e.attributes["name"], let v = e.attributes["value"] { fields.append((n, v)) }
            case "volume":
                if let r = e.attributes["role"], let p = e.attributes["pool"], let n = e.attributes["name"] { volumes.append((r, p, n)) }
            case "ready": ready = e.attributes["instance"]
            default: break
            }
        }
        return LabMetadata(lab: lab, machine: machine, cluster: root.attributes["cluster"], spec: MachineSpec(fields: fields),
                           specDigest: digest, volumes: volumes, readyInstance: ready)
    }

    /// The metadata element with a `<ready instance=…/>` child added (recorded once the guest reported ready).
    public static func withReady(_ element: XMLElement, instance: String) -> XMLElement {
        var e = element
        e.children.removeAll { if case .element(let c) = $0 { return c.name.hasSuffix(":ready") } else { return false } }
        e.append(XMLElement("\(NestlabXMLNS.prefix):ready", [("instance", instance)]))
        return e
    }
}

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
            guard s[i] == "<" else { i += 1; continue }
            let next = i + 1 < s.count ? s[i + 1] : " "
            if next == "/" || next == "?" || next == "!" {
                while i < s.count && s[i] != ">" { i += 1 }
                continue
            }
            var j = i + 1
            var name = ""
            while j < s.count, !CharacterSet.whitespacesAndNewlines.contains(s[j]), s[j] != ">", s[j] != "/" {
                name.unicodeScalars.append(s[j]); j += 1
            }
            var attrs: [String: String] = [:]
            while j < s.count && s[j] != ">" {
                if CharacterSet.whitespacesAndNewlines.contains(s[j]) || s[j] == "/" { j += 1; continue }
                var key = ""
                while j < s.count, s[j] != "=", s[j] != ">", !CharacterSet.whitespacesAndNewlines.contains(s[j]) {
                    key.unicodeScalars.append(s[j]); j += 1
                }
                guard j < s.count, s[j] == "=" else { continue }
                j += 1
                guard j < s.count else { break }
                let quote = s[j]
                j += 1
                var value = ""
                while j < s.count && s[j] != quote { value.unicodeScalars.append(s[j]); j += 1 }
                j += 1
                attrs[key] = unescape(value)
            }
            let selfClosing = j > 0 && s[j - 1] == "/"
            var text = ""
            if !selfClosing {
                var k = j + 1
                while k < s.count && s[k] != "<" { text.unicodeScalars.append(s[k]); k += 1 }
            }
            out.append(Element(name: name, attributes: attrs, text: unescape(text.trimmingCharacters(in: .whitespacesAndNewlines))))
            i = j + 1
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { out += rest[amp...]; return out }
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
