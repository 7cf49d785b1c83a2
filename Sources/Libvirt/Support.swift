import CLibvirt

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One-time library setup, run lazily (and atomically) by the first `Connection`.
///
/// The no-op error function stops libvirt from printing every error to stderr on its own;
/// errors reach callers only as thrown `LibvirtError`s. libvirt-go does the same in `init()`.
/// `virInitialize` failing leaves `libvirtInitError` set, and every open reports it.
let libvirtInitError: LibvirtError? = {
    virSetErrorFunc(nil) { _, _ in }
    if virInitialize() < 0 {
        return LibvirtError.last()
    }
    return nil
}()

/// Throws the thread's last libvirt error when a C call returned a negative status.
@discardableResult
@inline(__always)
func check(_ rc: Int32) throws(LibvirtError) -> Int32 {
    if rc < 0 { throw LibvirtError.last() }
    return rc
}

/// Throws the thread's last libvirt error when a C call returned NULL.
@inline(__always)
func check<T>(_ pointer: T?) throws(LibvirtError) -> T {
    guard let pointer else { throw LibvirtError.last() }
    return pointer
}

/// Copies a string that libvirt allocated for the caller, then frees it.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?) throws(LibvirtError) -> String {
    guard let pointer else { throw LibvirtError.last() }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// Copies a string owned by libvirt (a `const char *` that must not be freed).
func borrowString(_ pointer: UnsafePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
}

/// Wraps the handles of a `virConnectListAll*`-style array, taking ownership of each, and
/// frees the array itself.
func takeArray<T>(
    count: Int32, _ array: UnsafeMutablePointer<OpaquePointer?>?,
    _ wrap: (OpaquePointer) -> T
) -> [T] {
    guard let array else { return [] }
    defer { free(array) }
    var result: [T] = []
    result.reserveCapacity(Int(count))
    for index in 0..<Int(count) {
        if let handle = array[index] { result.append(wrap(handle)) }
    }
    return result
}

/// Reads a UUID string (36 characters) through a libvirt `Get*UUIDString` function.
func uuidString(_ body: (UnsafeMutablePointer<CChar>) -> Int32) -> String {
    // VIR_UUID_STRING_BUFLEN is 37 (36 + NUL).
    var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
    let rc = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    if rc < 0 {
        virResetLastError()
        return ""
    }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Expands a libvirt CPU bitmap (`VIR_CPU_USED`) into the sorted list of CPUs it sets.
func cpuList(_ map: UnsafeBufferPointer<UInt8>, cpuCount: Int) -> [Int] {
    var cpus: [Int] = []
    for cpu in 0..<cpuCount where cpu / 8 < map.count {
        if map[cpu / 8] & (1 << UInt8(cpu % 8)) != 0 { cpus.append(cpu) }
    }
    return cpus
}
