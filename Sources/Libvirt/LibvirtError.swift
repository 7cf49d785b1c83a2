import CLibvirt

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error reported by libvirt, copied out of `virGetLastError()` right after the call that
/// failed.
///
/// libvirt keeps its last error per thread, so the wrapper reads it on the same thread and
/// before any other libvirt call; every throwing method in this module is synchronous, so no
/// suspension point sits between the two.
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a `virErrorNumber` (`VIR_ERR_*`).
    public let code: Code
    /// Which part of libvirt raised the error, as a `virErrorDomain` (`VIR_FROM_*`).
    public let domain: Int32
    /// libvirt's own human-readable message, verbatim.
    public let message: String

    public init(code: Code, domain: Int32, message: String) {
        self.code = code
        self.domain = domain
        self.message = message
    }

    public var description: String {
        let origin = Self.domainNames[domain].map { "\($0) (\(domain))" } ?? "\(domain)"
        return "libvirt: \(message) [code \(code), from \(origin)]"
    }

    /// A `virErrorNumber`, with names for the codes that callers branch on.
    ///
    /// A struct rather than an enum because libvirt adds codes over time and a code we have
    /// no name for must still round-trip unchanged. Compare with `==` or match in a `switch`
    /// (`case .noDomain:`).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ c: virErrorNumber) { self.rawValue = Int32(bitPattern: c.rawValue) }

        /// Internal error inside libvirt.
        public static let internalError = Code(VIR_ERR_INTERNAL_ERROR)
        /// The driver does not implement this call (e.g. volume upload on the test driver).
        public static let noSupport = Code(VIR_ERR_NO_SUPPORT)
        /// Cannot connect to the hypervisor.
        public static let noConnect = Code(VIR_ERR_NO_CONNECT)
        /// Invalid argument passed to a libvirt call.
        public static let invalidArgument = Code(VIR_ERR_INVALID_ARG)
        /// A command to the hypervisor failed.
        public static let operationFailed = Code(VIR_ERR_OPERATION_FAILED)
        /// The XML is not well formed or is broken.
        public static let xmlError = Code(VIR_ERR_XML_ERROR)
        /// The domain already exists.
        public static let domainExists = Code(VIR_ERR_DOM_EXIST)
        /// Operation forbidden on a read-only connection.
        public static let operationDenied = Code(VIR_ERR_OPERATION_DENIED)
        /// Detail of an XML error.
        public static let xmlDetail = Code(VIR_ERR_XML_DETAIL)
        /// The network already exists.
        public static let networkExists = Code(VIR_ERR_NETWORK_EXIST)
        /// A system call failed (libvirt's own, or a local file read by this module).
        public static let systemError = Code(VIR_ERR_SYSTEM_ERROR)
        /// RPC failure talking to the daemon.
        public static let rpc = Code(VIR_ERR_RPC)
        /// No domain with that name or UUID.
        public static let noDomain = Code(VIR_ERR_NO_DOMAIN)
        /// No network with that name or UUID.
        public static let noNetwork = Code(VIR_ERR_NO_NETWORK)
        /// Authentication failed.
        public static let authFailed = Code(VIR_ERR_AUTH_FAILED)
        /// No storage pool with that name or UUID.
        public static let noStoragePool = Code(VIR_ERR_NO_STORAGE_POOL)
        /// No storage volume with that name, key or path.
        public static let noStorageVol = Code(VIR_ERR_NO_STORAGE_VOL)
        /// No host interface with that name or MAC address.
        public static let noInterface = Code(VIR_ERR_NO_INTERFACE)
        /// The operation is not valid in the object's current state (e.g. starting a
        /// running domain).
        public static let operationInvalid = Code(VIR_ERR_OPERATION_INVALID)
        /// The configuration uses a construct this hypervisor does not support.
        public static let configUnsupported = Code(VIR_ERR_CONFIG_UNSUPPORTED)
        /// Timeout during the operation.
        public static let operationTimeout = Code(VIR_ERR_OPERATION_TIMEOUT)
        /// The stream is not valid.
        public static let invalidStream = Code(VIR_ERR_INVALID_STREAM)
        /// A valid argument that this driver does not support (e.g. an unknown flag).
        public static let argumentUnsupported = Code(VIR_ERR_ARGUMENT_UNSUPPORTED)
        /// The storage pool is already built.
        public static let storagePoolBuilt = Code(VIR_ERR_STORAGE_POOL_BUILT)
        /// The operation was aborted.
        public static let operationAborted = Code(VIR_ERR_OPERATION_ABORTED)
        /// The requested `<metadata>` element is not present (code 80).
        public static let noDomainMetadata = Code(VIR_ERR_NO_DOMAIN_METADATA)
        /// The requested operation is not supported.
        public static let operationUnsupported = Code(VIR_ERR_OPERATION_UNSUPPORTED)
        /// The guest agent is not responding or not configured.
        public static let agentUnresponsive = Code(VIR_ERR_AGENT_UNRESPONSIVE)
        /// The resource is in use.
        public static let resourceBusy = Code(VIR_ERR_RESOURCE_BUSY)
        /// Access denied by the access control driver.
        public static let accessDenied = Code(VIR_ERR_ACCESS_DENIED)
        /// The storage volume already exists.
        public static let storageVolExists = Code(VIR_ERR_STORAGE_VOL_EXIST)
        /// The XML does not validate against libvirt's schema.
        public static let xmlInvalidSchema = Code(VIR_ERR_XML_INVALID_SCHEMA)

        static let names: [Code: String] = [
            .internalError: "internalError", .noSupport: "noSupport", .noConnect: "noConnect",
            .invalidArgument: "invalidArgument", .operationFailed: "operationFailed",
            .xmlError: "xmlError", .domainExists: "domainExists",
            .operationDenied: "operationDenied", .xmlDetail: "xmlDetail",
            .networkExists: "networkExists", .systemError: "systemError", .rpc: "rpc",
            .noDomain: "noDomain", .noNetwork: "noNetwork", .authFailed: "authFailed",
            .noStoragePool: "noStoragePool", .noStorageVol: "noStorageVol", .noInterface: "noInterface",
            .operationInvalid: "operationInvalid", .configUnsupported: "configUnsupported",
            .operationTimeout: "operationTimeout", .invalidStream: "invalidStream",
            .argumentUnsupported: "argumentUnsupported", .storagePoolBuilt: "storagePoolBuilt",
            .operationAborted: "operationAborted", .noDomainMetadata: "noDomainMetadata",
            .operationUnsupported: "operationUnsupported",
            .agentUnresponsive: "agentUnresponsive", .resourceBusy: "resourceBusy",
            .accessDenied: "accessDenied", .storageVolExists: "storageVolExists",
            .xmlInvalidSchema: "xmlInvalidSchema",
        ]

        /// The constant's name where this module has one, e.g. `noDomain`.
        public var name: String? { Self.names[self] }

        public var description: String {
            name.map { "\(rawValue) \($0)" } ?? "\(rawValue)"
        }
    }

    /// `VIR_FROM_*` values named in descriptions; the rest print as numbers.
    static let domainNames: [Int32: String] = [
        Int32(VIR_FROM_NONE.rawValue): "none",
        Int32(VIR_FROM_RPC.rawValue): "rpc",
        Int32(VIR_FROM_QEMU.rawValue): "qemu",
        Int32(VIR_FROM_NET.rawValue): "net",
        Int32(VIR_FROM_TEST.rawValue): "test",
        Int32(VIR_FROM_REMOTE.rawValue): "remote",
        Int32(VIR_FROM_STORAGE.rawValue): "storage",
        Int32(VIR_FROM_NETWORK.rawValue): "network",
        Int32(VIR_FROM_DOMAIN.rawValue): "domain",
        Int32(VIR_FROM_STREAMS.rawValue): "streams",
        Int32(VIR_FROM_CONF.rawValue): "conf",
        Int32(VIR_FROM_XML.rawValue): "xml",
        Int32(VIR_FROM_DOM.rawValue): "dom",
    ]

    /// Copies and clears the calling thread's last libvirt error.
    ///
    /// Call only right after a libvirt call reported failure. A failure that left no error
    /// behind (it should not happen) becomes `internalError` so the caller still gets a code.
    static func last() -> LibvirtError {
        guard let err = virGetLastError() else {
            return LibvirtError(
                code: .internalError, domain: Int32(VIR_FROM_NONE.rawValue),
                message: "libvirt call failed without reporting an error")
        }
        let copy = LibvirtError(
            code: Code(rawValue: err.pointee.code),
            domain: err.pointee.domain,
            message: err.pointee.message.map { String(cString: $0) } ?? "")
        virResetLastError()
        return copy
    }

    /// A local system-call failure inside this module (reading or writing a file for a
    /// stream), reported with libvirt's `systemError` code and domain `none` so callers
    /// handle one error type, as libvirt does for its own system calls.
    static func system(_ what: String, errno code: Int32) -> LibvirtError {
        let reason = String(cString: strerror(code))
        return LibvirtError(
            code: .systemError, domain: Int32(VIR_FROM_NONE.rawValue),
            message: "\(what): \(reason) (errno \(code))")
    }
}
