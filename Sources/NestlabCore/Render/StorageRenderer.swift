import Foundation

/// Renders storage pool and volume XML.
public enum StorageRenderer {
    public static func pool(name: String, path: String, uuid: String) -> XMLElement {
        XMLElement(
            "pool", [("type", "dir")],
            [
                .element(XMLElement("name", text: name)),
                .element(XMLElement("uuid", text: uuid)),
                .element(
                    XMLElement(
                        "target", [],
                        [
                            .element(XMLElement("path", text: path)),
                            .element(XMLElement("permissions", [], [.element(XMLElement("mode", text: "0711"))])),
                        ])),
            ])
    }

    /// A qcow2 overlay on a base image: the machine's own disk.
    public static func overlay(name: String, capacity: ByteSize, backing: VolumeRef, backingFormat: Image.Format)
        -> XMLElement
    {
        XMLElement(
            "volume", [("type", "file")],
            [
                .element(XMLElement("name", text: name)),
                .element(XMLElement("capacity", [("unit", "bytes")], text: "\(capacity.bytes)")),
                .element(
                    XMLElement(
                        "target", [],
                        [
                            .element(XMLElement("format", [("type", "qcow2")])),
                            .element(XMLElement("permissions", [], [.element(XMLElement("mode", text: "0600"))])),
                            // qcow2 v3: without it libvirt writes the old 0.10 format, which lacks lazy refcounts and zero clusters.
                            .element(XMLElement("compat", text: "1.1")),
                        ])),
                .element(
                    XMLElement(
                        "backingStore", [],
                        [
                            .element(XMLElement("path", text: backing.path)),
                            .element(XMLElement("format", [("type", backingFormat.rawValue)])),
                        ])),
            ])
    }

    /// A raw volume that receives uploaded bytes (base images, kernels, seeds).
    public static func raw(name: String, bytes: UInt64, mode: String = "0600") -> XMLElement {
        file(name: name, capacity: bytes, format: "raw", mode: mode)
    }

    /// A volume whose file is already in place, registered with the format and capacity libvirt
    /// would probe from it (drivers that do not scan a pool's folder: the test driver).
    public static func file(name: String, capacity: UInt64, format: String, mode: String) -> XMLElement {
        XMLElement(
            "volume", [("type", "file")],
            [
                .element(XMLElement("name", text: name)),
                .element(XMLElement("capacity", [("unit", "bytes")], text: "\(capacity)")),
                .element(XMLElement("allocation", [("unit", "bytes")], text: "0")),
                .element(
                    XMLElement(
                        "target", [],
                        [
                            .element(XMLElement("format", [("type", format)])),
                            .element(XMLElement("permissions", [], [.element(XMLElement("mode", text: mode))])),
                        ])),
            ])
    }
}
