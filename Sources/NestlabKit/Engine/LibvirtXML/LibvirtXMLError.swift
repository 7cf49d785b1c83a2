import Foundation

/// libvirt XML that could not be decoded into its typed description: never a crash, one of these,
/// naming the object whose XML it was.
public enum LibvirtXMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libxml2 stopped at `line` (counted from 1) for `reason`.
    case malformed(kind: Kind, name: String, line: Int, reason: String)
    /// Not one element in it: an empty answer, or one cut off inside its first tag.
    case noElement(kind: Kind, name: String)
    /// Well-formed, but its root element is `<found>`, not the one its kind has.
    case wrongRoot(kind: Kind, name: String, found: String)

    /// What the XML describes.
    public enum Kind: String, Sendable {
        case domain, network, pool, volume, capabilities, metadata

        /// The root element of this kind's XML; nil for metadata, whose element is nestlab's own.
        var root: String? {
            switch self {
            case .domain: "domain"
            case .network: "network"
            case .pool: "pool"
            case .volume: "volume"
            case .capabilities: "capabilities"
            case .metadata: nil
            }
        }

        /// The object in words: `domain 'vm-0'`, `the capabilities of host 'h1'`.
        func object(_ name: String) -> String {
            switch self {
            case .domain: "domain '\(name)'"
            case .network: "network '\(name)'"
            case .pool: "storage pool '\(name)'"
            case .volume: "volume '\(name)'"
            case .capabilities: "the capabilities of host '\(name)'"
            case .metadata: "the nestlab metadata of domain '\(name)'"
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .malformed(let kind, _, _, _), .noElement(let kind, _), .wrongRoot(let kind, _, _): kind
        }
    }

    public var name: String {
        switch self {
        case .malformed(_, let name, _, _), .noElement(_, let name), .wrongRoot(_, let name, _): name
        }
    }

    public var description: String {
        let what = "libvirt's XML for \(kind.object(name))"
        switch self {
        case .malformed(_, _, let line, let reason):
            return "\(what) is not well-formed: line \(line): \(reason)"
        case .noElement:
            return "\(what) holds no element"
        case .wrongRoot(_, _, let found):
            return "\(what) is a <\(found)>, not a <\(kind.root ?? "")>"
        }
    }
}
