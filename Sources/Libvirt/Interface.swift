import CLibvirt

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A host network interface as libvirt's interface driver sees it (`virInterfacePtr`), freed
/// with `virInterfaceFree` when released. nestlab only reads them: a bridge network needs an
/// existing, active bridge on every host that has machines on it.
///
/// `@unchecked Sendable`: immutable handle plus connection; libvirt handles are thread-safe.
public final class Interface: @unchecked Sendable {
    /// The connection this interface came from; kept alive as long as the interface.
    public let connection: Connection
    let handle: OpaquePointer

    init(connection: Connection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        virInterfaceFree(handle)
    }

    /// The interface's name (held in the handle).
    public var name: String {
        borrowString(virInterfaceGetName(handle)) ?? ""
    }

    /// Whether the interface is up (`virInterfaceIsActive`).
    public func isActive() throws(LibvirtError) -> Bool {
        try check(virInterfaceIsActive(handle)) == 1
    }

    /// The interface's live XML (`virInterfaceGetXMLDesc`): its type (`bridge`, `ethernet`…).
    public func xmlDesc() throws(LibvirtError) -> String {
        try takeString(virInterfaceGetXMLDesc(handle, 0))
    }

    /// The `type` attribute of the root `<interface>` element (`bridge`, `ethernet`, `bond`…).
    public func type() throws(LibvirtError) -> String? {
        Self.type(fromXML: try xmlDesc())
    }

    static func type(fromXML xml: String) -> String? {
        // The root element's start tag: `<interface type='bridge' name='br0'>`.
        guard let tag = xml.split(separator: ">", maxSplits: 1).first?.split(separator: "<").last,
            tag.hasPrefix("interface")
        else { return nil }
        for attribute in tag.split(separator: " ") where attribute.hasPrefix("type=") {
            return String(attribute.dropFirst(6).dropLast())
        }
        return nil
    }
}

extension Connection {
    /// The host interface named `name` (`virInterfaceLookupByName`).
    public func interface(named name: String) throws(LibvirtError) -> Interface {
        Interface(connection: self, handle: try check(virInterfaceLookupByName(handle, name)))
    }

    /// The host interface named `name`, or nil when the host has none of that name.
    public func interfaceIfExists(named name: String) throws(LibvirtError) -> Interface? {
        do throws(LibvirtError) {
            return try interface(named: name)
        } catch  where error.code == .noInterface {
            return nil
        }
    }
}
