import Foundation
import NestlabCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One element of a libvirt XML document as libxml2 (through Foundation's `XMLParser`) read it:
/// its name without prefix, its namespace, its attributes, its own text and its child elements.
/// The typed descriptions (`DomainDescription`, `VolumeDescription`…) are decoded from these.
struct LibvirtXMLElement: Sendable, Equatable {
    /// The name without its prefix (`nestlab` for `<nestlab:nestlab>`).
    var name: String
    /// The namespace URI the element is in; nil for libvirt's own elements, which have none.
    var namespace: String?
    /// Attributes by name, entities replaced.
    var attributes: [String: String]
    /// The element's own character data, entities replaced, without leading and trailing whitespace.
    var text: String
    var children: [LibvirtXMLElement]

    /// The first child named `name`.
    func child(_ name: String) -> LibvirtXMLElement? {
        children.first { $0.name == name }
    }

    /// The children named `name`, in document order.
    func children(_ name: String) -> [LibvirtXMLElement] {
        children.filter { $0.name == name }
    }

    /// The element down a path of child names: `volume.at("target", "path")`.
    func at(_ path: String...) -> LibvirtXMLElement? {
        path.reduce(Optional(self)) { e, name in e?.child(name) }
    }

    /// The first element named `name`, this one or one below it, in document order.
    func first(named name: String) -> LibvirtXMLElement? {
        if self.name == name { return self }
        for c in children {
            if let found = c.first(named: name) { return found }
        }
        return nil
    }

    /// This element and every element below it, in document order.
    var subtree: [LibvirtXMLElement] {
        [self] + children.flatMap(\.subtree)
    }

    /// Parses `xml`, the XML libvirt gave for the `kind` object `name` (named in errors), and
    /// checks that its root is the kind's root element. Anything libxml2 reports as an error,
    /// namespace errors included, makes the XML malformed; its warnings do not.
    static func parse(_ xml: String, kind: LibvirtXMLError.Kind, name: String) throws(LibvirtXMLError)
        -> LibvirtXMLElement
    {
        let builder = Builder()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        let finished = parser.parse()
        if let (code, line) = builder.error {
            throw .malformed(kind: kind, name: name, line: line, reason: reason(code))
        }
        if !finished {
            let code = (parser.parserError as NSError?)?.code ?? 1
            throw .malformed(kind: kind, name: name, line: builder.line, reason: reason(code))
        }
        guard let root = builder.root else { throw .noElement(kind: kind, name: name) }
        if let expected = kind.root, root.name != expected || root.namespace != nil {
            throw .wrongRoot(kind: kind, name: name, found: root.name)
        }
        return root
    }

    /// libxml2's warnings (`XML_WAR_…` in xmlerror.h): reported through the same delegate call as
    /// errors, but the document is still well-formed.
    private static let warnings: Set<Int> = [27, 93, 97, 98, 99, 100, 102, 106, 107]

    /// The words for the libxml2 error codes (xmlerror.h) that broken XML usually gives.
    private static func reason(_ code: Int) -> String {
        switch code {
        case 4: "the document is empty"
        case 5: "the document ends before or after its root element"
        case 9: "a character that XML does not allow"
        case 23: "an entity reference without its ';'"
        case 26: "an undeclared entity"
        case 38: "a '<' in an attribute value"
        case 39: "an attribute value without quotes"
        case 41: "an attribute without a value"
        case 42: "an attribute given twice"
        case 73: "a '>' is missing"
        case 76: "an end tag that does not match its start tag"
        case 77: "the document ends inside an element"
        case 201: "an undeclared namespace prefix"
        default: "libxml2 error \(code)"
        }
    }

    /// Builds the element tree from the parser's events; keeps the first error and its line.
    private final class Builder: NSObject, XMLParserDelegate {
        var open: [LibvirtXMLElement] = []
        var root: LibvirtXMLElement?
        var error: (code: Int, line: Int)?
        /// The line of the last start tag read.
        var line = 1

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String]
        ) {
            line = parser.lineNumber
            let namespace = namespaceURI.flatMap { $0.isEmpty ? nil : $0 }
            open.append(
                LibvirtXMLElement(
                    name: elementName, namespace: namespace, attributes: attributeDict, text: "", children: []))
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            guard var e = open.popLast() else { return }
            e.text = e.text.trimmingWhitespace()
            if open.isEmpty {
                root = root ?? e
            } else {
                open[open.count - 1].children.append(e)
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !open.isEmpty { open[open.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            if !open.isEmpty { open[open.count - 1].text += String(decoding: block, as: UTF8.self) }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            let code = (parseError as NSError).code
            guard error == nil, !LibvirtXMLElement.warnings.contains(code) else { return }
            error = (code, parser.lineNumber)
        }
    }
}
