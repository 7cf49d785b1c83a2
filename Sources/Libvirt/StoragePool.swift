import CLibvirt

/// A libvirt storage pool, freed with `virStoragePoolFree` when released.
///
/// `@unchecked Sendable`: immutable handle plus connection; libvirt handles are thread-safe.
public final class StoragePool: @unchecked Sendable {
    /// The connection this pool came from; kept alive as long as the pool.
    public let connection: Connection
    let handle: OpaquePointer

    init(connection: Connection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        virStoragePoolFree(handle)
    }

    /// The pool's name (held in the handle; no round trip).
    public var name: String {
        borrowString(virStoragePoolGetName(handle)) ?? ""
    }

    /// The pool's UUID string (held in the handle).
    public var uuid: String {
        uuidString { virStoragePoolGetUUIDString(handle, $0) }
    }

    // MARK: lifecycle

    /// Builds the underlying storage, e.g. creates the directory of a `dir` pool
    /// (`virStoragePoolBuild`).
    public func build(flags: BuildFlags = []) throws(LibvirtError) {
        try check(virStoragePoolBuild(handle, flags.rawValue))
    }

    /// Starts (activates) a defined pool (`virStoragePoolCreate`).
    public func create(flags: CreateFlags = []) throws(LibvirtError) {
        try check(virStoragePoolCreate(handle, flags.rawValue))
    }

    /// Stops the pool; its volumes stay on disk (`virStoragePoolDestroy`).
    public func destroy() throws(LibvirtError) {
        try check(virStoragePoolDestroy(handle))
    }

    /// Removes the persistent definition (`virStoragePoolUndefine`).
    public func undefine() throws(LibvirtError) {
        try check(virStoragePoolUndefine(handle))
    }

    /// Deletes the underlying storage of an inactive pool, e.g. removes the (empty)
    /// directory of a `dir` pool (`virStoragePoolDelete`).
    public func deleteStorage() throws(LibvirtError) {
        try check(virStoragePoolDelete(handle, 0))
    }

    /// Rescans the pool so volumes created behind libvirt's back appear
    /// (`virStoragePoolRefresh`).
    public func refresh() throws(LibvirtError) {
        try check(virStoragePoolRefresh(handle, 0))
    }

    /// Sets whether the pool starts with the host.
    public func setAutostart(_ autostart: Bool) throws(LibvirtError) {
        try check(virStoragePoolSetAutostart(handle, autostart ? 1 : 0))
    }

    /// Whether the pool starts with the host.
    public func autostart() throws(LibvirtError) -> Bool {
        var value: Int32 = 0
        try check(virStoragePoolGetAutostart(handle, &value))
        return value != 0
    }

    // MARK: state

    /// Whether the pool is active.
    public func isActive() throws(LibvirtError) -> Bool {
        try check(virStoragePoolIsActive(handle)) == 1
    }

    /// Whether the pool has a persistent definition.
    public func isPersistent() throws(LibvirtError) -> Bool {
        try check(virStoragePoolIsPersistent(handle)) == 1
    }

    /// State and sizes in bytes (`virStoragePoolGetInfo`).
    public func info() throws(LibvirtError) -> StoragePoolInfo {
        var info = virStoragePoolInfo()
        try check(virStoragePoolGetInfo(handle, &info))
        return StoragePoolInfo(
            state: StoragePoolInfo.State(rawValue: info.state) ?? .inactive,
            capacity: info.capacity, allocation: info.allocation, available: info.available)
    }

    /// The pool XML; `inactive` gives the persistent definition.
    public func xmlDesc(inactive: Bool = false) throws(LibvirtError) -> String {
        try takeString(
            virStoragePoolGetXMLDesc(handle, inactive ? VIR_STORAGE_XML_INACTIVE.rawValue : 0))
    }

    /// The pool's `<target><path>`, e.g. `/var/lib/libvirt/images`; `nil` for pool types
    /// without one (rbd, gluster, ...).
    public func targetPath() throws(LibvirtError) -> String? {
        Self.targetPath(fromXML: try xmlDesc())
    }

    /// Extracts `<target><path>…</path>` from pool XML as libvirt formats it.
    ///
    /// A string scan rather than an XML parser: libvirt's own output has one `<target>` with
    /// at most one `<path>`, and Foundation's XML parser would pull libxml2 into every client.
    static func targetPath(fromXML xml: String) -> String? {
        guard let target = xml.firstRange(of: "<target>"),
            let targetEnd = xml[target.upperBound...].firstRange(of: "</target>")
        else { return nil }
        let inner = xml[target.upperBound..<targetEnd.lowerBound]
        guard let open = inner.firstRange(of: "<path>"),
            let close = inner[open.upperBound...].firstRange(of: "</path>")
        else { return nil }
        return unescapeXML(String(inner[open.upperBound..<close.lowerBound]))
    }

    // MARK: volumes

    /// Creates a volume from XML (`virStorageVolCreateXML`). For a copy-on-write overlay
    /// give `<format type='qcow2'/>` in `<target>` and a `<backingStore>` with the base
    /// image's path and format.
    public func createVolume(xml: String, flags: StorageVolume.CreateFlags = [])
        throws(LibvirtError) -> StorageVolume
    {
        StorageVolume(
            connection: connection,
            handle: try check(virStorageVolCreateXML(handle, xml, flags.rawValue)))
    }

    /// Creates a volume from XML whose content is cloned from `source`
    /// (`virStorageVolCreateXMLFrom`), possibly converting the format.
    public func createVolume(
        xml: String, cloningFrom source: StorageVolume, flags: StorageVolume.CreateFlags = []
    ) throws(LibvirtError) -> StorageVolume {
        StorageVolume(
            connection: connection,
            handle: try check(
                virStorageVolCreateXMLFrom(handle, xml, source.handle, flags.rawValue)))
    }

    /// Looks a volume up by name in this pool; throws `noStorageVol` when there is none.
    public func volume(named name: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(
            connection: connection, handle: try check(virStorageVolLookupByName(handle, name)))
    }

    /// Looks a volume up by name, answering `nil` instead of throwing `noStorageVol`.
    public func volumeIfExists(named name: String) throws(LibvirtError) -> StorageVolume? {
        do throws(LibvirtError) {
            return try volume(named: name)
        } catch  where error.code == .noStorageVol {
            return nil
        }
    }

    /// All volumes in the pool (`virStoragePoolListAllVolumes`).
    public func listAllVolumes() throws(LibvirtError) -> [StorageVolume] {
        var array: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check(virStoragePoolListAllVolumes(handle, &array, 0))
        return takeArray(count: count, array) {
            StorageVolume(connection: connection, handle: $0)
        }
    }

    // MARK: types

    /// Flags for `build(flags:)` (`virStoragePoolBuildFlags`); empty builds from scratch.
    public struct BuildFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let repair = Self(rawValue: VIR_STORAGE_POOL_BUILD_REPAIR.rawValue)
        public static let resize = Self(rawValue: VIR_STORAGE_POOL_BUILD_RESIZE.rawValue)
        public static let noOverwrite = Self(rawValue: VIR_STORAGE_POOL_BUILD_NO_OVERWRITE.rawValue)
        public static let overwrite = Self(rawValue: VIR_STORAGE_POOL_BUILD_OVERWRITE.rawValue)
    }

    /// Flags for `create(flags:)` and `Connection.createStoragePool`
    /// (`virStoragePoolCreateFlags`).
    public struct CreateFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Build the pool before starting it.
        public static let build = Self(rawValue: VIR_STORAGE_POOL_CREATE_WITH_BUILD.rawValue)
        public static let buildOverwrite = Self(
            rawValue: VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE.rawValue)
        public static let buildNoOverwrite = Self(
            rawValue: VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE.rawValue)
    }
}

/// Replaces the five predefined XML entities and numeric character references.
func unescapeXML(_ text: String) -> String {
    guard text.contains("&") else { return text }
    var result = ""
    var rest = Substring(text)
    while let amp = rest.firstIndex(of: "&") {
        result += rest[..<amp]
        guard let semi = rest[amp...].firstIndex(of: ";") else {
            rest = rest[amp...]
            break
        }
        let entity = rest[rest.index(after: amp)..<semi]
        switch entity {
        case "amp": result += "&"
        case "lt": result += "<"
        case "gt": result += ">"
        case "quot": result += "\""
        case "apos": result += "'"
        default:
            var scalar: Unicode.Scalar?
            if entity.hasPrefix("#x") {
                scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
            } else if entity.hasPrefix("#") {
                scalar = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init)
            }
            if let scalar { result.unicodeScalars.append(scalar) } else { result += rest[amp...semi] }
        }
        rest = rest[rest.index(after: semi)...]
    }
    result += rest
    return result
}
