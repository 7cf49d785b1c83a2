import Foundation

/// An XML element built from typed values; rendered by one escaping writer.
///
/// Every libvirt document nestlab sends is built as an `XMLElement` tree, never
/// by formatting strings, so that a machine or network name can never break
/// the document.
public struct XMLElement: Sendable, Hashable {
    public var name: String
    public var attributes: [(String, String)]
    public var children: [XMLContent]

    public init(_ name: String, _ attributes: [(String, String)] = [], _ children: [XMLContent] = []) {
        self.name = name
        self.attributes = attributes
        self.children = children
    }

    /// An element holding only text: `<name>text</name>`.
    public init(_ name: String, _ attributes: [(String, String)] = [], text: String) {
        self.init(name, attributes, [.text(text)])
    }

    public static func == (a: XMLElement, b: XMLElement) -> Bool {
        a.name == b.name && a.attributes.map(\.0) == b.attributes.map(\.0)
            && a.attributes.map(\.1) == b.attributes.map(\.1)
            && a.children == b.children
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        for (k, v) in attributes {
            h.combine(k)
            h.combine(v)
        }
        h.combine(children)
    }

    public mutating func append(_ child: XMLElement) { children.append(.element(child)) }

    /// The same tree with namespace prefixes and `xmlns` declarations removed: the form
    /// `virDomainSetMetadata` wants (libvirt adds the namespace from its key and URI itself).
    public func unprefixed() -> XMLElement {
        func local(_ n: String) -> String { n.split(separator: ":").last.map(String.init) ?? n }
        return XMLElement(
            local(name), attributes.filter { !$0.0.hasPrefix("xmlns") }.map { (local($0.0), $0.1) },
            children.map { c in
                if case .element(let e) = c { return .element(e.unprefixed()) }
                return c
            })
    }
    public mutating func append(_ child: XMLElement?) { if let child { children.append(.element(child)) } }

    /// The document as text, indented by two spaces, ending with a newline.
    public func render() -> String {
        var out = ""
        write(to: &out, indent: 0)
        return out
    }

    private func write(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent)
        out += pad + "<" + name
        for (k, v) in attributes { out += " \(k)='\(XMLEscape.attribute(v))'" }
        if children.isEmpty {
            out += "/>\n"
            return
        }
        if children.count == 1, case .text(let t) = children[0] {
            out += ">" + XMLEscape.text(t) + "</\(name)>\n"
            return
        }
        out += ">\n"
        for c in children {
            switch c {
            case .element(let e): e.write(to: &out, indent: indent + 1)
            case .text(let t): out += pad + "  " + XMLEscape.text(t) + "\n"
            }
        }
        out += pad + "</\(name)>\n"
    }
}
