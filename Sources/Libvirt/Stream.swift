import CLibvirt
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A blocking libvirt data stream (`virStreamPtr`): the channel behind volume upload and
/// download and the guest console.
///
/// Every call blocks the calling thread until libvirt has moved the data, so read a console
/// from a dedicated thread (or a detached task you do not mind blocking). libvirt requires a
/// stream with a transfer in progress to be finished or aborted before it is freed; if
/// neither happened, `deinit` aborts it.
///
/// `@unchecked Sendable`: the handle is immutable and libvirt streams lock internally; the
/// only Swift state, the transfer phase, sits behind a `Mutex`. Calling `abort()` from another
/// thread is how a blocked reader is told to stop (see `receive`).
public final class Stream: @unchecked Sendable {
    /// The connection this stream belongs to; kept alive as long as the stream.
    public let connection: Connection
    let handle: OpaquePointer
    private let phase = Mutex(Phase.idle)

    enum Phase {
        /// No transfer attached yet (`virStreamNew` only).
        case idle
        /// A transfer is attached (upload, download or console) and not yet ended.
        case active
        /// `finish` or `abort` ran.
        case closed
    }

    init(connection: Connection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit {
        if phase.withLock({ $0 }) == .active {
            virStreamAbort(handle)
            virResetLastError()
        }
        virStreamFree(handle)
    }

    /// Records that a libvirt call attached a transfer to this stream.
    func markStarted() {
        phase.withLock { $0 = .active }
    }

    /// Sends all of `bytes`, looping over partial writes (`virStreamSend`).
    public func send(_ bytes: UnsafeRawBufferPointer) throws(LibvirtError) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let sent = virStreamSend(handle, next.assumingMemoryBound(to: CChar.self), remaining)
            try check(sent)
            guard sent > 0 else {
                throw LibvirtError(
                    code: .internalError, domain: Int32(VIR_FROM_STREAMS.rawValue),
                    message: "stream accepted no data from a blocking send")
            }
            next += Int(sent)
            remaining -= Int(sent)
        }
    }

    /// Sends all of `data`.
    public func send(_ data: Data) throws(LibvirtError) {
        // Data.withUnsafeBytes is `rethrows`, which loses the typed error; carry it out.
        let failure = data.withUnsafeBytes { raw -> LibvirtError? in
            do throws(LibvirtError) {
                try send(raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Receives up to `maxLength` bytes, blocking until some arrive; `nil` at end of stream
    /// (`virStreamRecv`).
    ///
    /// A console never ends while the guest runs; to stop a thread blocked here, call
    /// `abort()` from another thread, which makes this call throw.
    public func receive(maxLength: Int = 256 * 1024) throws(LibvirtError) -> Data? {
        var data = Data(count: max(maxLength, 1))
        let received = data.withUnsafeMutableBytes { raw in
            virStreamRecv(handle, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        try check(received)
        if received == 0 { return nil }
        data.count = Int(received)
        return data
    }

    /// Calls `body` with each chunk until end of stream or until `body` returns `false`.
    ///
    /// Returns `true` at end of stream (then call `finish()`), `false` when `body` stopped
    /// early (then call `abort()`, or drop the stream and let `deinit` abort it). Errors from
    /// libvirt and from `body` propagate.
    @discardableResult
    public func forEachChunk(maxLength: Int = 256 * 1024, _ body: (Data) throws -> Bool) throws
        -> Bool
    {
        while let chunk = try receive(maxLength: maxLength) {
            if try !body(chunk) { return false }
        }
        return true
    }

    /// Completes the transfer, reporting any error the far end saw (`virStreamFinish`).
    /// Call after the last `send`, or after `receive` returned `nil`.
    public func finish() throws(LibvirtError) {
        phase.withLock { $0 = .closed }
        try check(virStreamFinish(handle))
    }

    /// Cancels the transfer (`virStreamAbort`); for an upload, the volume's content is then
    /// undefined. Safe to call from another thread to stop a blocked `receive`.
    public func abort() throws(LibvirtError) {
        let wasActive = phase.withLock { phase in
            defer { phase = .closed }
            return phase == .active
        }
        guard wasActive else { return }
        try check(virStreamAbort(handle))
    }
}
