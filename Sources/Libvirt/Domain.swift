import CLibvirt

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A libvirt domain (guest VM), freed with `virDomainFree` when released.
///
/// `@unchecked Sendable`: the class holds only an immutable handle and its connection, and
/// libvirt object handles are reference-counted and safe to use from several threads.
public final class Domain: @unchecked Sendable {
    /// The connection this domain came from; kept alive as long as the domain.
    public let connection: Connection
    let handle: OpaquePointer

    init(connection: Connection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        virDomainFree(handle)
    }

    /// The domain's name (held in the handle; no round trip).
    public var name: String {
        borrowString(virDomainGetName(handle)) ?? ""
    }

    /// The domain's UUID in its 36-character string form (held in the handle).
    public var uuid: String {
        uuidString { virDomainGetUUIDString(handle, $0) }
    }

    /// The hypervisor's ID of a running domain, `nil` when the domain is not running.
    public var id: UInt32? {
        let id = virDomainGetID(handle)
        return id == UInt32.max ? nil : id
    }

    // MARK: lifecycle

    /// Starts a defined domain (`virDomainCreate`).
    public func create(flags: StartFlags = []) throws(LibvirtError) {
        if flags.isEmpty {
            try check(virDomainCreate(handle))
        } else {
            try check(virDomainCreateWithFlags(handle, flags.rawValue))
        }
    }

    /// Asks the guest to shut down; returns before it has (`virDomainShutdownFlags`).
    public func shutdown(flags: ShutdownFlags = []) throws(LibvirtError) {
        if flags.isEmpty {
            try check(virDomainShutdown(handle))
        } else {
            try check(virDomainShutdownFlags(handle, flags.rawValue))
        }
    }

    /// Stops the domain at once, like pulling the plug (`virDomainDestroy`).
    public func destroy() throws(LibvirtError) {
        try check(virDomainDestroy(handle))
    }

    /// Resets the machine at once, like its reset button (`virDomainReset`); the QEMU
    /// process, and so an open console stream, stay.
    public func reset() throws(LibvirtError) {
        try check(virDomainReset(handle, 0))
    }

    /// Removes the persistent definition (`virDomainUndefineFlags`); a running domain keeps
    /// running as a transient one.
    ///
    /// The test driver accepts only `managedSave` and `snapshotsMetadata`.
    public func undefine(flags: UndefineFlags = []) throws(LibvirtError) {
        try check(virDomainUndefineFlags(handle, flags.rawValue))
    }

    /// Sets whether the domain starts with the host (`virDomainSetAutostart`).
    public func setAutostart(_ autostart: Bool) throws(LibvirtError) {
        try check(virDomainSetAutostart(handle, autostart ? 1 : 0))
    }

    /// Whether the domain starts with the host.
    public func autostart() throws(LibvirtError) -> Bool {
        var value: Int32 = 0
        try check(virDomainGetAutostart(handle, &value))
        return value != 0
    }

    // MARK: state

    /// Whether the domain is running (`virDomainIsActive`).
    public func isActive() throws(LibvirtError) -> Bool {
        try check(virDomainIsActive(handle)) == 1
    }

    /// Whether the domain has a persistent definition (`virDomainIsPersistent`).
    public func isPersistent() throws(LibvirtError) -> Bool {
        try check(virDomainIsPersistent(handle)) == 1
    }

    /// The domain's state and the driver's reason code for it (`virDomainGetState`).
    public func state() throws(LibvirtError) -> (state: State, reason: Int32) {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(handle, &state, &reason, 0))
        return (State(rawValue: state) ?? .noState, reason)
    }

    /// State, memory, vCPU count and CPU time (`virDomainGetInfo`).
    public func info() throws(LibvirtError) -> DomainInfo {
        var info = virDomainInfo()
        try check(virDomainGetInfo(handle, &info))
        return DomainInfo(
            state: State(rawValue: Int32(info.state)) ?? .noState,
            maxMemoryKiB: UInt64(info.maxMem), memoryKiB: UInt64(info.memory),
            vcpus: Int(info.nrVirtCpu), cpuTimeNanoseconds: UInt64(info.cpuTime))
    }

    /// The domain XML (`virDomainGetXMLDesc`); `.inactive` gives the persistent
    /// definition rather than the live one.
    public func xmlDesc(flags: XMLFlags = []) throws(LibvirtError) -> String {
        try takeString(virDomainGetXMLDesc(handle, flags.rawValue))
    }

    // MARK: pinning

    /// The host CPUs each vCPU may run on, as applied (`virDomainGetVcpuPinInfo`):
    /// `[vcpu: [host cpu]]`, CPUs sorted. An unpinned vCPU lists every host CPU.
    ///
    /// `flags` picks the live or the persistent configuration; `.current` follows the
    /// domain's state.
    public func vcpuPinInfo(flags: Modification = .current) throws(LibvirtError) -> [Int: [Int]] {
        let cpuCount = try connection.hostCPUCount()
        let vcpus = try info().vcpus
        guard vcpus > 0, cpuCount > 0 else { return [:] }
        // VIR_CPU_MAPLEN: one bit per host CPU, rounded up to whole bytes.
        let mapLength = (cpuCount + 7) / 8
        var maps = [UInt8](repeating: 0, count: vcpus * mapLength)
        let filled = maps.withUnsafeMutableBufferPointer {
            virDomainGetVcpuPinInfo(
                handle, Int32(vcpus), $0.baseAddress, Int32(mapLength), flags.rawValue)
        }
        try check(filled)
        var result: [Int: [Int]] = [:]
        maps.withUnsafeBufferPointer { all in
            for vcpu in 0..<min(vcpus, Int(filled)) {
                let map = UnsafeBufferPointer(rebasing: all[(vcpu * mapLength)..<((vcpu + 1) * mapLength)])
                result[vcpu] = cpuList(map, cpuCount: cpuCount)
            }
        }
        return result
    }

    /// The host CPUs the emulator threads may run on (`virDomainGetEmulatorPinInfo`).
    public func emulatorPinInfo(flags: Modification = .current) throws(LibvirtError) -> [Int] {
        let cpuCount = try connection.hostCPUCount()
        let mapLength = (cpuCount + 7) / 8
        var map = [UInt8](repeating: 0, count: max(mapLength, 1))
        let rc = map.withUnsafeMutableBufferPointer {
            virDomainGetEmulatorPinInfo(handle, $0.baseAddress, Int32(mapLength), flags.rawValue)
        }
        try check(rc)
        return map.withUnsafeBufferPointer { cpuList($0, cpuCount: cpuCount) }
    }

    /// The domain's I/O threads and the host CPUs each may run on
    /// (`virDomainGetIOThreadInfo`), sorted by I/O thread ID.
    public func ioThreadInfo(flags: Modification = .current) throws(LibvirtError) -> [IOThreadInfo] {
        let cpuCount = try connection.hostCPUCount()
        var array: UnsafeMutablePointer<virDomainIOThreadInfoPtr?>?
        let count = try check(virDomainGetIOThreadInfo(handle, &array, flags.rawValue))
        guard let array else { return [] }
        defer {
            for index in 0..<Int(count) { virDomainIOThreadInfoFree(array[index]) }
            free(array)
        }
        var result: [IOThreadInfo] = []
        for index in 0..<Int(count) {
            guard let info = array[index]?.pointee else { continue }
            let cpus =
                info.cpumap.map {
                    cpuList(UnsafeBufferPointer(start: $0, count: Int(info.cpumaplen)), cpuCount: cpuCount)
                } ?? []
            result.append(IOThreadInfo(id: info.iothread_id, cpus: cpus))
        }
        return result.sorted { $0.id < $1.id }
    }

    // MARK: metadata

    /// The custom `<metadata>` element in namespace `uri`, as XML
    /// (`virDomainGetMetadata` with `VIR_DOMAIN_METADATA_ELEMENT`).
    ///
    /// Throws `noDomainMetadata` when the domain has no element in that namespace.
    public func metadata(uri: String, flags: Modification = .current) throws(LibvirtError) -> String {
        try takeString(
            virDomainGetMetadata(
                handle, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), uri, flags.rawValue))
    }

    /// Like `metadata(uri:flags:)`, answering `nil` instead of throwing `noDomainMetadata`.
    public func metadataIfPresent(uri: String, flags: Modification = .current)
        throws(LibvirtError) -> String?
    {
        do throws(LibvirtError) {
            return try metadata(uri: uri, flags: flags)
        } catch  where error.code == .noDomainMetadata {
            return nil
        }
    }

    /// Sets (or with `nil` removes) the custom `<metadata>` element in namespace `uri`
    /// (`virDomainSetMetadata`). `key` is the namespace prefix libvirt writes the element
    /// with; `xml` is one element, e.g. `<lab name='x'/>`, whose own prefix is replaced.
    ///
    /// `.current` changes the live domain only when it is running; pass `[.live, .config]`
    /// to change both a running domain and its persistent definition.
    public func setMetadata(
        _ xml: String?, key: String, uri: String, flags: Modification = .current
    ) throws(LibvirtError) {
        try check(
            virDomainSetMetadata(
                handle, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), xml, xml == nil ? nil : key,
                uri, flags.rawValue))
    }

    // MARK: guest access

    /// The guest's interfaces and IP addresses as `source` knows them
    /// (`virDomainInterfaceAddresses`).
    public func interfaceAddresses(source: AddressSource) throws(LibvirtError) -> [DomainInterface] {
        var array: UnsafeMutablePointer<virDomainInterfacePtr?>?
        let count = try check(virDomainInterfaceAddresses(handle, &array, source.rawValue, 0))
        guard let array else { return [] }
        defer {
            for index in 0..<Int(count) { virDomainInterfaceFree(array[index]) }
            free(array)
        }
        var result: [DomainInterface] = []
        for index in 0..<Int(count) {
            guard let iface = array[index]?.pointee else { continue }
            var addresses: [DomainInterface.Address] = []
            if let addrs = iface.addrs {
                for a in 0..<Int(iface.naddrs) {
                    let addr = addrs[a]
                    addresses.append(
                        DomainInterface.Address(
                            family: addr.type == Int32(VIR_IP_ADDR_TYPE_IPV6.rawValue) ? .ipv6 : .ipv4,
                            address: addr.addr.map { String(cString: $0) } ?? "",
                            prefix: Int(addr.prefix)))
                }
            }
            result.append(
                DomainInterface(
                    name: iface.name.map { String(cString: $0) } ?? "",
                    hardwareAddress: iface.hwaddr.map { String(cString: $0) },
                    addresses: addresses))
        }
        return result
    }

    /// Opens the guest's console (the first serial/console device, or `device`, an alias
    /// such as `serial0`) as a blocking stream of the bytes the guest writes
    /// (`virDomainOpenConsole`). Works for remote connections too.
    ///
    /// Read it with `Stream.receive` or `Stream.forEachChunk` on a dedicated thread; finish
    /// with `Stream.abort()` (consoles have no clean end).
    public func openConsole(device: String? = nil, flags: ConsoleFlags = []) throws(LibvirtError)
        -> Stream
    {
        let stream = try connection.makeStream()
        try check(virDomainOpenConsole(handle, device, stream.handle, flags.rawValue))
        stream.markStarted()
        return stream
    }

    // MARK: types

    /// A domain's state (`virDomainState`).
    public enum State: Int32, Sendable, CustomStringConvertible {
        case noState = 0
        case running = 1
        case blocked = 2
        case paused = 3
        case shuttingDown = 4
        case shutOff = 5
        case crashed = 6
        case pmSuspended = 7

        public var description: String {
            switch self {
            case .noState: "no state"
            case .running: "running"
            case .blocked: "blocked"
            case .paused: "paused"
            case .shuttingDown: "shutting down"
            case .shutOff: "shut off"
            case .crashed: "crashed"
            case .pmSuspended: "pm-suspended"
            }
        }
    }

    /// Which definition a call reads or changes (`virDomainModificationImpact`).
    public struct Modification: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The live domain if running, else the persistent definition.
        public static let current: Self = []
        /// The running domain.
        public static let live = Self(rawValue: VIR_DOMAIN_AFFECT_LIVE.rawValue)
        /// The persistent definition.
        public static let config = Self(rawValue: VIR_DOMAIN_AFFECT_CONFIG.rawValue)
    }

    /// Flags for `create(flags:)` (`virDomainCreateFlags`).
    public struct StartFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let paused = Self(rawValue: VIR_DOMAIN_START_PAUSED.rawValue)
        public static let autodestroy = Self(rawValue: VIR_DOMAIN_START_AUTODESTROY.rawValue)
        public static let bypassCache = Self(rawValue: VIR_DOMAIN_START_BYPASS_CACHE.rawValue)
        public static let forceBoot = Self(rawValue: VIR_DOMAIN_START_FORCE_BOOT.rawValue)
        public static let validate = Self(rawValue: VIR_DOMAIN_START_VALIDATE.rawValue)
    }

    /// Flags for `shutdown(flags:)`; empty lets the hypervisor choose.
    public struct ShutdownFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let acpiPowerButton = Self(rawValue: VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue)
        public static let guestAgent = Self(rawValue: VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue)
    }

    /// Flags for `undefine(flags:)` (`virDomainUndefineFlagsValues`).
    public struct UndefineFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let managedSave = Self(rawValue: VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue)
        public static let snapshotsMetadata = Self(
            rawValue: VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue)
        /// Also remove NVRAM (UEFI vars); the test driver rejects it.
        public static let nvram = Self(rawValue: VIR_DOMAIN_UNDEFINE_NVRAM.rawValue)
        public static let keepNVRAM = Self(rawValue: VIR_DOMAIN_UNDEFINE_KEEP_NVRAM.rawValue)
        public static let checkpointsMetadata = Self(
            rawValue: VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue)
        public static let tpm = Self(rawValue: VIR_DOMAIN_UNDEFINE_TPM.rawValue)
        public static let keepTPM = Self(rawValue: VIR_DOMAIN_UNDEFINE_KEEP_TPM.rawValue)
    }

    /// Flags for `xmlDesc(flags:)` (`virDomainXMLFlags`).
    public struct XMLFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let secure = Self(rawValue: VIR_DOMAIN_XML_SECURE.rawValue)
        /// The persistent definition rather than the live state.
        public static let inactive = Self(rawValue: VIR_DOMAIN_XML_INACTIVE.rawValue)
        public static let updateCPU = Self(rawValue: VIR_DOMAIN_XML_UPDATE_CPU.rawValue)
        public static let migratable = Self(rawValue: VIR_DOMAIN_XML_MIGRATABLE.rawValue)
    }

    /// Flags for `openConsole` (`virDomainConsoleFlags`).
    public struct ConsoleFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Take the console over from another client that holds it.
        public static let force = Self(rawValue: VIR_DOMAIN_CONSOLE_FORCE.rawValue)
        /// Fail unless the driver can guarantee exclusive access.
        public static let safe = Self(rawValue: VIR_DOMAIN_CONSOLE_SAFE.rawValue)
    }

    /// Where `interfaceAddresses` looks (`virDomainInterfaceAddressesSource`).
    public enum AddressSource: UInt32, Sendable {
        /// The libvirt network's DHCP leases (only for guests on a libvirt NAT/route network).
        case lease = 0
        /// The QEMU guest agent inside the guest.
        case agent = 1
        /// The host's ARP table.
        case arp = 2
    }
}
