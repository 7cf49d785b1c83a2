import Foundation

/// The fields of a storage volume's XML (`virStorageVolGetXMLDesc`) that nestlab reads: what
/// placement checks, and the paths that keep an image in use. A field a driver does not report
/// (the test driver has no `<physical>`) is nil.
struct VolumeDescription: Sendable, Equatable {
    /// An overlay's `<backingStore>`: the image under it.
    struct BackingStore: Sendable, Equatable {
        var path: String?
        var format: String?
    }

    /// `<target><path>`: the volume's file.
    var path: String?
    /// `<target><format type=…>`: `qcow2`, `raw`, `iso`…
    var format: String?
    /// `<capacity>`, the virtual size, in bytes; nil when given in another unit.
    var capacity: UInt64?
    /// `<physical>`, the size of the file, in bytes; nil when given in another unit.
    var physical: UInt64?
    var backingStore: BackingStore?
}

extension VolumeDescription {
    /// Decodes the XML libvirt gave for the volume `name` (named in errors).
    init(xml: String, of name: String) throws(LibvirtXMLError) {
        let volume = try LibvirtXMLElement.parse(xml, kind: .volume, name: name)
        path = volume.at("target", "path")?.text
        format = volume.at("target", "format")?.attributes["type"]
        capacity = volume.child("capacity").flatMap(Self.bytes)
        physical = volume.child("physical").flatMap(Self.bytes)
        backingStore = volume.child("backingStore").map {
            BackingStore(path: $0.child("path")?.text, format: $0.child("format")?.attributes["type"])
        }
    }

    /// A size element's value when it is in bytes (`unit='bytes'`, `unit='B'` or no unit).
    private static func bytes(_ e: LibvirtXMLElement) -> UInt64? {
        guard let v = UInt64(e.text) else { return nil }
        let unit = e.attributes["unit"] ?? "bytes"
        return unit == "bytes" || unit == "B" ? v : nil
    }
}
