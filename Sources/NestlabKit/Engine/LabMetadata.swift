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

    /// Parses the element libvirt returns for nestlab's namespace (any prefix, either quote style) for the
    /// domain `domain` (named in errors); nil when it is not nestlab's element.
    public static func parse(_ xml: String, domain: String) throws(LibvirtXMLError) -> LabMetadata? {
        LabMetadata(element: try LibvirtXMLElement.parse(xml, kind: .metadata, name: domain))
    }

    /// A rendered machine's metadata element, recording `instance` as the one seen ready.
    public static func ready(_ rm: RenderedMachine, lab: String, instance: String) -> XMLElement {
        withReady(
            DomainRenderer.metadata(
                .init(machine: rm.machine, lab: lab, base: rm.base, seedVolume: rm.seedVolume, spec: rm.spec)),
            instance: instance)
    }

    /// The metadata element with a `<ready instance=…/>` child added (recorded once the guest reported ready).
    public static func withReady(_ element: XMLElement, instance: String) -> XMLElement {
        var e = element
        e.children.removeAll {
            if case .element(let c) = $0 { return c.name.hasSuffix(":ready") } else { return false }
        }
        e.append(XMLElement("\(NestlabXMLNS.prefix):ready", [("instance", instance)]))
        return e
    }
}

extension LabMetadata {
    /// Decodes the first element named `nestlab` (any prefix), `element` or one below it, from its
    /// attributes and the `spec`, `field`, `volume` and `ready` elements under it; nil without one,
    /// or when it names no lab or machine.
    init?(element: LibvirtXMLElement) {
        guard let root = element.first(named: NestlabXMLNS.key),
            let lab = root.attributes["lab"], let machine = root.attributes["machine"]
        else { return nil }
        var fields: [(String, String)] = []
        var digest = ""
        var volumes: [(String, String, String)] = []
        var ready: String?
        for e in root.subtree {
            switch e.name {
            case "spec": digest = e.attributes["digest"] ?? ""
            case "field": if let n = e.attributes["name"], let v = e.attributes["value"] { fields.append((n, v)) }
            case "volume":
                if let r = e.attributes["role"], let p = e.attributes["pool"], let n = e.attributes["name"] {
                    volumes.append((r, p, n))
                }
            case "ready": ready = e.attributes["instance"]
            default: break
            }
        }
        self.init(
            lab: lab, machine: machine, cluster: root.attributes["cluster"], spec: MachineSpec(fields: fields),
            specDigest: digest, volumes: volumes, readyInstance: ready)
    }
}
