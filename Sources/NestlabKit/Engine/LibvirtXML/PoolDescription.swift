import Foundation

/// The fields of a storage pool's XML (`virStoragePoolGetXMLDesc`) that nestlab reads.
struct PoolDescription: Sendable, Equatable {
    /// `<target><path>`: the pool's folder; nil for pool types without one (rbd, gluster…).
    var targetPath: String?
}

extension PoolDescription {
    /// Decodes the XML libvirt gave for the storage pool `name` (named in errors).
    init(xml: String, of name: String) throws(LibvirtXMLError) {
        let pool = try LibvirtXMLElement.parse(xml, kind: .pool, name: name)
        targetPath = pool.at("target", "path")?.text
    }
}
