import Foundation

/// The fields of a host's capabilities XML (`virConnectGetCapabilities`) that nestlab reads.
struct HostCapabilities: Sendable, Equatable {
    /// A NUMA node of the host and the ids of its CPUs.
    struct NUMACell: Sendable, Equatable {
        var id: Int
        var cpus: [Int]
    }

    /// `<host><cpu><model>`: the host CPU's model; nil where libvirt names none (the test driver).
    var cpuModel: String?
    /// `<host><cpu><vendor>`: `Intel`, `AMD`…
    var cpuVendor: String?
    /// `<host><cpu><feature name=…>`: `vmx`, `svm`…
    var cpuFeatures: [String]
    /// `<host><topology><cells><cell>`, each with the ids in its `<cpus>`.
    var numaCells: [NUMACell]
    /// `<guest><arch><domain type=…>` of every guest, in document order: `kvm`, `qemu`, `test`…
    var guestDomainTypes: [String]
}

extension HostCapabilities {
    /// Decodes the capabilities libvirt gave for the host `name` (named in errors).
    init(xml: String, of name: String) throws(LibvirtXMLError) {
        let caps = try LibvirtXMLElement.parse(xml, kind: .capabilities, name: name)
        let cpu = caps.at("host", "cpu")
        cpuModel = cpu?.child("model")?.text
        cpuVendor = cpu?.child("vendor")?.text
        cpuFeatures = cpu?.children("feature").compactMap { $0.attributes["name"] } ?? []
        numaCells = (caps.at("host", "topology", "cells")?.children("cell") ?? []).compactMap { cell in
            guard let id = cell.attributes["id"].flatMap({ Int($0) }) else { return nil }
            let cpus = cell.child("cpus")?.children("cpu").compactMap { $0.attributes["id"].flatMap { Int($0) } }
            return NUMACell(id: id, cpus: cpus ?? [])
        }
        guestDomainTypes = caps.children("guest").flatMap { guest in
            guest.children("arch").flatMap { $0.children("domain").compactMap { $0.attributes["type"] } }
        }
    }
}
