import Foundation
import Libvirt
import NestlabCore

/// What nestlab means a volume to hold (a base image, kernel, initrd or seed ISO): its bytes,
/// and what libvirt must report for them once they are placed.
///
/// A volume is never trusted by its name. Before one is used, ``mismatch(in:)`` compares it
/// with this: the format libvirt probed, the virtual size, the byte size, and the first and
/// last bytes. Anything else is replaced.
public struct VolumeContent: Sendable {
    public enum Source: Sendable {
        case file(String)
        case data(Data)
    }

    public let source: Source
    /// Bytes of the content (the file's size).
    public let bytes: UInt64
    /// The format libvirt reports for these bytes in a dir pool: `qcow2`, `iso` or `raw`.
    public let format: String
    /// libvirt's capacity: a qcow2's virtual size, otherwise the byte size.
    public let virtualSize: UInt64
    /// The first ``edge`` bytes (all of them for small content) and the last ``edge`` bytes.
    let head: Data
    let tail: Data

    /// How many bytes at each end are compared, and the head that a remote placement writes
    /// last. It covers every format magic libvirt probes (an ISO's is at 32769), so until the
    /// head is written libvirt sees raw zeros, never a half-placed qcow2 or ISO.
    static let edge: UInt64 = 64 * 1024

    public init(file path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HostError.system("cannot open \(path)", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw HostError.system("cannot stat \(path)", errno: errno) }
        let size = UInt64(st.st_size)
        func read(_ offset: UInt64, _ count: UInt64) throws -> Data {
            var buf = Data(count: Int(count))
            var got = 0
            while got < Int(count) {
                let n = buf.withUnsafeMutableBytes {
                    pread(fd, $0.baseAddress! + got, Int(count) - got, off_t(offset) + off_t(got))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw HostError.system("cannot read \(path)", errno: errno)
                }
                if n == 0 { throw HostError.system("\(path) shrank while it was read", errno: EIO) }
                got += n
            }
            return buf
        }
        let head = try read(0, min(Self.edge, size))
        let tailCount = min(Self.edge, size)
        self.init(source: .file(path), bytes: size, head: head, tail: try read(size - tailCount, tailCount))
    }

    public init(data: Data) {
        let n = UInt64(data.count)
        let e = Int(min(Self.edge, n))
        self.init(source: .data(data), bytes: n, head: data.prefix(e), tail: data.suffix(e))
    }

    private init(source: Source, bytes: UInt64, head: Data, tail: Data) {
        self.source = source
        self.bytes = bytes
        self.head = Data(head)
        self.tail = Data(tail)
        (format, virtualSize) = Self.probe(head: self.head, bytes: bytes)
    }

    /// The format libvirt's dir pools probe from these bytes, and the capacity they report.
    static func probe(head: Data, bytes: UInt64) -> (format: String, virtualSize: UInt64) {
        let h = [UInt8](head)
        if h.count >= 32, h[0] == 0x51, h[1] == 0x46, h[2] == 0x49, h[3] == 0xFB {  // "QFI\xfb"
            let size = h[24..<32].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return ("qcow2", size)
        }
        if h.count >= 32774, Array(h[32769..<32774]) == Array("CD001".utf8) { return ("iso", bytes) }
        return ("raw", bytes)
    }

    /// Why a volume that has this content's name does not hold it, or nil when it does.
    /// Reads the volume's XML, and its first and last bytes (from the file on a local host,
    /// through libvirt's stream otherwise; drivers that cannot stream, such as the test
    /// driver without a folder, are checked on their XML alone).
    func mismatch(in volume: StorageVolume, localPath: String?) throws -> String? {
        let facts = try VolumeDescription(xml: try volume.xmlDesc(), of: volume.name)
        if let f = facts.format, f != format { return "it is \(f), not \(format)" }
        if let c = facts.capacity, c != virtualSize { return "its virtual size is \(c) bytes, not \(virtualSize)" }
        if let p = facts.physical, p != bytes { return "it has \(p) bytes, not \(bytes)" }
        guard bytes > 0 else { return nil }
        let tailOffset = bytes - UInt64(tail.count)
        guard let (first, last) = try edges(of: volume, localPath: localPath, tailOffset: tailOffset) else {
            return nil
        }
        if first.count != head.count || last.count != tail.count { return "its file does not have \(bytes) bytes" }
        if first != head { return "its first \(head.count) bytes differ" }
        if last != tail { return "its last \(tail.count) bytes differ" }
        return nil
    }

    /// The volume's first and last bytes where the content has its head and tail; nil when the
    /// driver cannot stream them.
    private func edges(of volume: StorageVolume, localPath: String?, tailOffset: UInt64) throws -> (Data, Data)? {
        if let localPath, FileManager.default.isReadableFile(atPath: localPath) {
            // A driver that reports no <physical> (the test driver): the file's own size.
            let size = (try? FileManager.default.attributesOfItem(atPath: localPath)[.size] as? UInt64) ?? nil
            if let size, size != tailOffset + UInt64(tail.count) { return (Data(), Data()) }
            return (
                Self.readLocal(localPath, 0, head.count) ?? Data(),
                Self.readLocal(localPath, tailOffset, tail.count) ?? Data()
            )
        }
        let first: Data
        do {
            first = try volume.download(offset: 0, length: UInt64(head.count))
        } catch {
            if error.code == .noSupport { return nil }
            throw error
        }
        return (first, try volume.download(offset: tailOffset, length: UInt64(tail.count)))
    }

    private static func readLocal(_ path: String, _ offset: UInt64, _ count: Int) -> Data? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard (try? h.seek(toOffset: offset)) != nil, let d = try? h.read(upToCount: count), d.count == count else {
            return nil
        }
        return d
    }

    /// Sends bytes `range` of the content into `volume` at the same offset, through libvirt.
    func upload(_ range: Range<UInt64>, into volume: StorageVolume, progress: ((UInt64) -> Void)?) throws {
        guard !range.isEmpty else { return }
        switch source {
        case .file(let path):
            try volume.upload(
                fromFile: path, fileOffset: range.lowerBound, offset: range.lowerBound, length: UInt64(range.count),
                progress: progress)
        case .data(let data):
            try volume.upload(data[Int(range.lowerBound)..<Int(range.upperBound)], offset: range.lowerBound)
            progress?(UInt64(range.count))
        }
    }
}
