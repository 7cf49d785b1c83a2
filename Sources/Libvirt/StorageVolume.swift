import CLibvirt

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A libvirt storage volume, freed with `virStorageVolFree` when released.
///
/// `@unchecked Sendable`: immutable handle plus connection; libvirt handles are thread-safe.
public final class StorageVolume: @unchecked Sendable {
    /// The connection this volume came from; kept alive as long as the volume.
    public let connection: Connection
    let handle: OpaquePointer

    /// Bytes per read and per `virStreamSend`. libvirt's RPC layer carries at most 256 KiB
    /// of stream data per message.
    static let chunkSize = 256 * 1024

    init(connection: Connection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        virStorageVolFree(handle)
    }

    /// The volume's name within its pool (held in the handle).
    public var name: String {
        borrowString(virStorageVolGetName(handle)) ?? ""
    }

    /// The volume's globally unique key, usually its path (held in the handle).
    public var key: String {
        borrowString(virStorageVolGetKey(handle)) ?? ""
    }

    /// The volume's path on the libvirt host (`virStorageVolGetPath`).
    public func path() throws(LibvirtError) -> String {
        try takeString(virStorageVolGetPath(handle))
    }

    /// Type and sizes in bytes (`virStorageVolGetInfo`).
    public func info() throws(LibvirtError) -> StorageVolumeInfo {
        var info = virStorageVolInfo()
        try check(virStorageVolGetInfo(handle, &info))
        return StorageVolumeInfo(
            type: StorageVolumeInfo.VolumeType(rawValue: info.type) ?? .file,
            capacity: info.capacity, allocation: info.allocation)
    }

    /// The volume XML (`virStorageVolGetXMLDesc`).
    public func xmlDesc() throws(LibvirtError) -> String {
        try takeString(virStorageVolGetXMLDesc(handle, 0))
    }

    /// The pool that holds this volume (`virStoragePoolLookupByVolume`).
    public func pool() throws(LibvirtError) -> StoragePool {
        StoragePool(connection: connection, handle: try check(virStoragePoolLookupByVolume(handle)))
    }

    /// Deletes the volume and its storage (`virStorageVolDelete`).
    public func delete(flags: DeleteFlags = []) throws(LibvirtError) {
        try check(virStorageVolDelete(handle, flags.rawValue))
    }

    /// Overwrites the volume's content with zeros (`virStorageVolWipe`).
    public func wipe() throws(LibvirtError) {
        try check(virStorageVolWipe(handle, 0))
    }

    /// Resizes the volume to `capacity` bytes (`virStorageVolResize`).
    public func resize(capacity: UInt64) throws(LibvirtError) {
        try check(virStorageVolResize(handle, capacity, 0))
    }

    // MARK: upload and download

    /// Uploads a local file into the volume through a stream (`virStorageVolUpload` +
    /// `virStreamSend` + `virStreamFinish`), so it works when libvirt is remote.
    ///
    /// Writes `length` bytes (default: the rest of the file) at byte `offset` of the volume,
    /// reading the file from byte `fileOffset` (default: its start). On any failure the stream
    /// is aborted and the error thrown; the volume's content is then undefined. `progress`
    /// gets the bytes sent so far after each chunk. The test driver answers `noSupport`.
    public func upload(
        fromFile path: String, fileOffset: UInt64 = 0, offset: UInt64 = 0, length: UInt64? = nil,
        progress: ((UInt64) -> Void)? = nil
    ) throws(LibvirtError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open '\(path)' for reading", errno: errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .system("cannot stat '\(path)'", errno: errno) }
        let size = UInt64(status.st_size)
        guard fileOffset <= size, lseek(fd, off_t(fileOffset), SEEK_SET) >= 0 else {
            throw .system("cannot read '\(path)' from byte \(fileOffset)", errno: fileOffset > size ? EINVAL : errno)
        }
        let total = length ?? size - fileOffset

        let stream = try connection.makeStream()
        try check(virStorageVolUpload(handle, stream.handle, offset, total, 0))
        stream.markStarted()
        do throws(LibvirtError) {
            var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
            var sent: UInt64 = 0
            while sent < total {
                let want = Int(min(UInt64(buffer.count), total - sent))
                let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw .system("cannot read '\(path)'", errno: errno)
                }
                if got == 0 {
                    throw LibvirtError(
                        code: .systemError, domain: Int32(VIR_FROM_NONE.rawValue),
                        message: "'\(path)' ended after \(sent) of \(total) bytes")
                }
                let failure = buffer.withUnsafeBytes { raw -> LibvirtError? in
                    do throws(LibvirtError) {
                        try stream.send(UnsafeRawBufferPointer(rebasing: raw.prefix(got)))
                        return nil
                    } catch {
                        return error
                    }
                }
                if let failure { throw failure }
                sent += UInt64(got)
                progress?(sent)
            }
        } catch {
            try? stream.abort()
            throw error
        }
        try stream.finish()
    }

    /// Uploads `data` into the volume at byte `offset` through a stream.
    public func upload(_ data: Data, offset: UInt64 = 0) throws(LibvirtError) {
        let stream = try connection.makeStream()
        try check(virStorageVolUpload(handle, stream.handle, offset, UInt64(data.count), 0))
        stream.markStarted()
        do throws(LibvirtError) {
            var start = 0
            while start < data.count {
                let end = min(start + Self.chunkSize, data.count)
                try stream.send(data[start..<end])
                start = end
            }
        } catch {
            try? stream.abort()
            throw error
        }
        try stream.finish()
    }

    /// Downloads the volume's content into a local file created with mode 0600 (it may
    /// hold secrets, e.g. a cloud-init seed); an existing file is truncated. On failure the
    /// stream is aborted and the partial file removed. `length` 0 means up to the end.
    public func download(
        toFile path: String, offset: UInt64 = 0, length: UInt64 = 0,
        progress: ((UInt64) -> Void)? = nil
    ) throws(LibvirtError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system("cannot open '\(path)' for writing", errno: errno) }
        var succeeded = false
        defer {
            close(fd)
            if !succeeded { unlink(path) }
        }
        let stream = try connection.makeStream()
        try check(virStorageVolDownload(handle, stream.handle, offset, length, 0))
        stream.markStarted()
        do throws(LibvirtError) {
            var received: UInt64 = 0
            while let chunk = try stream.receive(maxLength: Self.chunkSize) {
                let writeErrno = chunk.withUnsafeBytes { raw -> Int32? in
                    guard let base = raw.baseAddress else { return nil }
                    var offset = 0
                    while offset < raw.count {
                        let wrote = write(fd, base + offset, raw.count - offset)
                        if wrote < 0 {
                            if errno == EINTR { continue }
                            return errno
                        }
                        offset += wrote
                    }
                    return nil
                }
                if let writeErrno { throw .system("cannot write '\(path)'", errno: writeErrno) }
                received += UInt64(chunk.count)
                progress?(received)
            }
        } catch {
            try? stream.abort()
            throw error
        }
        try stream.finish()
        succeeded = true
    }

    /// Downloads the volume's content into memory; for small volumes (seeds, tests).
    public func download(offset: UInt64 = 0, length: UInt64 = 0) throws(LibvirtError) -> Data {
        let stream = try connection.makeStream()
        try check(virStorageVolDownload(handle, stream.handle, offset, length, 0))
        stream.markStarted()
        var result = Data()
        do throws(LibvirtError) {
            while let chunk = try stream.receive(maxLength: Self.chunkSize) {
                result.append(chunk)
            }
        } catch {
            try? stream.abort()
            throw error
        }
        try stream.finish()
        return result
    }

    // MARK: types

    /// Flags for `StoragePool.createVolume` (`virStorageVolCreateFlags`).
    public struct CreateFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Preallocate qcow2 metadata.
        public static let preallocateMetadata = Self(
            rawValue: VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA.rawValue)
        /// Validate the XML against libvirt's schema first.
        public static let validate = Self(rawValue: VIR_STORAGE_VOL_CREATE_VALIDATE.rawValue)
    }

    /// Flags for `delete(flags:)` (`virStorageVolDeleteFlags`).
    public struct DeleteFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let zeroed = Self(rawValue: VIR_STORAGE_VOL_DELETE_ZEROED.rawValue)
        public static let withSnapshots = Self(
            rawValue: VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS.rawValue)
    }
}
