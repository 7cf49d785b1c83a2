import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// Sparse-aware file copy for base images (holes stay holes).
enum FileCopy {
    // Linux's lseek whence values; Glibc hides SEEK_DATA/SEEK_HOLE behind _GNU_SOURCE.
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    static func copy(from src: String, to dst: String, mode: mode_t, progress: ((UInt64) -> Void)? = nil) throws {
        let inFD = open(src, O_RDONLY | O_CLOEXEC)
        guard inFD >= 0 else { throw HostError.system("cannot open \(src)", errno: errno) }
        defer { close(inFD) }
        let outFD = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard outFD >= 0 else { throw HostError.system("cannot create \(dst)", errno: errno) }
        var ok = false
        defer {
            close(outFD)
            if !ok { unlink(dst) }
        }
        var st = stat()
        guard fstat(inFD, &st) == 0 else { throw HostError.system("cannot stat \(src)", errno: errno) }
        let size = off_t(st.st_size)
        let chunk = 4 << 20
        var buf = [UInt8](repeating: 0, count: chunk)
        var off: off_t = 0
        while off < size {
            // Skip holes: SEEK_DATA finds the next data at or after `off`.
            let data = lseek(inFD, off, Self.seekData)
            if data < 0 { break }  // ENXIO: only a hole remains
            off = data
            let holeAt = lseek(inFD, off, Self.seekHole)
            let end = holeAt < 0 ? size : min(holeAt, size)
            while off < end {
                let want = Int(min(off_t(chunk), end - off))
                let n = buf.withUnsafeMutableBytes { pread(inFD, $0.baseAddress, want, off) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw HostError.system("cannot read \(src)", errno: errno)
                }
                if n == 0 { break }
                var w = 0
                while w < n {
                    let m = buf.withUnsafeBytes { pwrite(outFD, $0.baseAddress! + w, n - w, off + off_t(w)) }
                    if m < 0 {
                        if errno == EINTR { continue }
                        throw HostError.system("cannot write \(dst)", errno: errno)
                    }
                    w += m
                }
                off += off_t(n)
                progress?(UInt64(off))
            }
        }
        guard ftruncate(outFD, size) == 0, fsync(outFD) == 0 else {
            throw HostError.system("cannot finish \(dst)", errno: errno)
        }
        ok = true
    }
}
