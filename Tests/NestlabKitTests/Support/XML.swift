import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads libvirt's XML answers with a real XML parser (libxml2 through FoundationXML),
/// so assertions do not depend on nestlab's own XML reading.
enum XPath {
    /// The attributes of every element matching `path`.
    static func attributes(_ xml: String, _ path: String) throws -> [[String: String]] {
        let doc = try XMLDocument(xmlString: xml)
        return try doc.nodes(forXPath: path).compactMap { node in
            guard let e = node as? XMLElement else { return nil }
            var out: [String: String] = [:]
            for a in e.attributes ?? [] { if let n = a.name { out[n] = a.stringValue ?? "" } }
            return out
        }
    }

    /// The text of every node matching `path`.
    static func texts(_ xml: String, _ path: String) throws -> [String] {
        let doc = try XMLDocument(xmlString: xml)
        return try doc.nodes(forXPath: path).map { $0.stringValue ?? "" }
    }

    static func text(_ xml: String, _ path: String) throws -> String? { try texts(xml, path).first }
}
