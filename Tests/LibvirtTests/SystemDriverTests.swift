import Foundation
import Synchronization
import Testing

@testable import Libvirt

/// Checks against the real QEMU driver through a running `libvirtd` (`qemu:///system`):
/// what the test driver cannot do (stream upload and download, the guest console).
///
/// Off by default; run with `NESTLAB_SYSTEM_TESTS=1` as root with `virtlogd -d; libvirtd -d`
/// running. Every object is named `nl-lvtest-<random>` and removed again, also on failure.
@Suite(
    "qemu:///system (NESTLAB_SYSTEM_TESTS=1)",
    .enabled(if: ProcessInfo.processInfo.environment["NESTLAB_SYSTEM_TESTS"] == "1"),
    .serialized)
struct SystemDriverTests {
    static let uri = "qemu:///system"

    static func uniqueName(_ role: String) -> String {
        "nl-lvtest-\(role)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    @Test func hostFacts() throws {
        let connection = try Connection(uri: Self.uri)
        #expect(connection.uri == Self.uri)
        #expect(!connection.isRemote)
        #expect(connection.isAlive())
        #expect(try connection.hypervisorType() == "QEMU")
        let qemu = try #require(try connection.hypervisorVersion())
        #expect(qemu >= LibvirtVersion(major: 7, minor: 0, release: 0))
        #expect(try connection.libVersion() == Connection.localLibraryVersion())
        #expect(try connection.capabilities().contains("<domain type='qemu'"))

        let cpus = try connection.hostCPUCount()
        #expect(cpus == sysconf(Int32(_SC_NPROCESSORS_CONF)))
        #expect(try connection.nodeInfo().cpus == cpus)

        // Free 2 MiB hugepages as the kernel counts them, for the whole host (cell nil)
        // and for NUMA node 0.
        let sysfs = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
        let node0 = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"
        let expectedHost = try #require(
            UInt64(String(contentsOfFile: sysfs, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let expectedNode0 = try #require(
            UInt64(String(contentsOfFile: node0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try connection.freePages(sizesKiB: [2048])[2048] == expectedHost)
        #expect(try connection.freePages(sizesKiB: [2048], cell: 0)[2048] == expectedNode0)
    }

    /// A started dir pool in a fresh temporary directory, torn down by `remove`.
    struct TemporaryPool {
        let pool: StoragePool
        let path: String

        init(connection: Connection) throws {
            path =
                FileManager.default.temporaryDirectory
                .appendingPathComponent(SystemDriverTests.uniqueName("pool")).path
            pool = try connection.defineStoragePool(
                xml: StorageXML.dirPool(name: URL(fileURLWithPath: path).lastPathComponent, path: path))
            try pool.build()
            try pool.create()
        }

        func remove() {
            for volume in (try? pool.listAllVolumes()) ?? [] { try? volume.delete() }
            try? pool.destroy()
            try? pool.deleteStorage()
            try? pool.undefine()
        }
    }

    @Test func uploadAndDownloadThroughAStream() throws {
        let connection = try Connection(uri: Self.uri)
        let temporary = try TemporaryPool(connection: connection)
        defer { temporary.remove() }
        #expect(try temporary.pool.targetPath() == temporary.path)
        #expect(try connection.storagePool(targetPath: temporary.path).name == temporary.pool.name)
        #expect(FileManager.default.fileExists(atPath: temporary.path))

        // 600 000 bytes: more than two 256 KiB chunks, not a multiple of the chunk size.
        var generator = SystemRandomNumberGenerator()
        let payload = Data((0..<600_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let source = FileManager.default.temporaryDirectory
            .appendingPathComponent(Self.uniqueName("src")).path
        try payload.write(to: URL(fileURLWithPath: source))
        defer { try? FileManager.default.removeItem(atPath: source) }

        let volume = try temporary.pool.createVolume(
            xml: StorageXML.volume(name: "up.raw", format: "raw", capacityBytes: 1 << 20))
        var reported: [UInt64] = []
        try volume.upload(fromFile: source) { reported.append($0) }
        #expect(reported == [262_144, 524_288, 600_000])

        // The bytes are in the volume's file on the host, and come back through a stream.
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: volume.path()))
        #expect(onDisk.count == 1 << 20)
        #expect(onDisk.prefix(payload.count) == payload)
        #expect(try volume.download(length: UInt64(payload.count)) == payload)

        let target = FileManager.default.temporaryDirectory
            .appendingPathComponent(Self.uniqueName("dst")).path
        defer { try? FileManager.default.removeItem(atPath: target) }
        try volume.download(toFile: target, length: UInt64(payload.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == payload)
        let mode = try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // In-memory upload at an offset.
        try volume.upload(Data("nestlab".utf8), offset: 1000)
        #expect(try volume.download(offset: 1000, length: 7) == Data("nestlab".utf8))

        try volume.wipe()
        #expect(try volume.download() == Data(count: 1 << 20))
    }

    @Test func shortSourceFileAbortsTheUpload() throws {
        let connection = try Connection(uri: Self.uri)
        let temporary = try TemporaryPool(connection: connection)
        defer { temporary.remove() }
        let source = FileManager.default.temporaryDirectory
            .appendingPathComponent(Self.uniqueName("short")).path
        try Data(count: 1000).write(to: URL(fileURLWithPath: source))
        defer { try? FileManager.default.removeItem(atPath: source) }

        let volume = try temporary.pool.createVolume(
            xml: StorageXML.volume(name: "short.raw", format: "raw", capacityBytes: 1 << 20))
        let error = try #require(throws: LibvirtError.self) {
            try volume.upload(fromFile: source, length: 5000)
        }
        #expect(error.code == .systemError)
        #expect(error.message == "'\(source)' ended after 1000 of 5000 bytes")
        // The aborted stream left the connection usable.
        #expect(try volume.info().capacity == 1 << 20)
        try volume.upload(Data("ok".utf8))
        #expect(try volume.download(length: 2) == Data("ok".utf8))
    }

    @Test func qcow2OverlayRecordsItsBackingFile() throws {
        let connection = try Connection(uri: Self.uri)
        let temporary = try TemporaryPool(connection: connection)
        defer { temporary.remove() }
        let base = try temporary.pool.createVolume(
            xml: StorageXML.volume(name: "base.qcow2", format: "qcow2", capacityBytes: 64 << 20))
        let basePath = try base.path()
        let overlay = try temporary.pool.createVolume(
            xml: StorageXML.overlay(name: "cp.qcow2", capacityBytes: 128 << 20, backingPath: basePath))
        #expect(try overlay.info().capacity == 128 << 20)
        #expect(try overlay.xmlDesc().contains("<path>\(basePath)</path>"))

        // The qcow2 header names the backing file: offset at byte 8 (u64 BE), length at 16
        // (u32 BE).
        let header = try Data(contentsOf: URL(fileURLWithPath: overlay.path()))
        #expect(header.prefix(4) == Data([0x51, 0x46, 0x49, 0xFB]))  // "QFI\xfb"
        let offset = header[8..<16].reduce(0) { $0 << 8 | Int($1) }
        let length = header[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(String(decoding: header[offset..<(offset + length)], as: UTF8.self) == basePath)

        #expect(try temporary.pool.listAllVolumes().map(\.name).sorted() == ["base.qcow2", "cp.qcow2"])
        try overlay.delete()
        #expect(!FileManager.default.fileExists(atPath: "\(temporary.path)/cp.qcow2"))
        #expect(try temporary.pool.listAllVolumes().map(\.name) == ["base.qcow2"])
    }

    /// A TCG guest with no disk: SeaBIOS prints its banner on the serial console.
    static func consoleDomainXML(name: String) -> String {
        """
        <domain type='qemu'>
          <name>\(name)</name>
          <memory unit='MiB'>64</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='pc'>hvm</type>
            <bios useserial='yes'/>
          </os>
          <devices>
            <serial type='pty'><target port='0'/></serial>
            <console type='pty'><target type='serial' port='0'/></console>
            <video><model type='none'/></video>
          </devices>
        </domain>
        """
    }

    @Test func consoleStreamsWhatTheGuestPrints() throws {
        let connection = try Connection(uri: Self.uri)
        let domain = try connection.defineDomain(xml: Self.consoleDomainXML(name: Self.uniqueName("con")))
        defer {
            try? domain.destroy()
            try? domain.undefine()
        }
        try domain.create()
        let console = try domain.openConsole(flags: .force)

        let seen = Mutex(Data())
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<String>("running")
        let reader = Thread {
            do {
                let ended = try console.forEachChunk { chunk in
                    let text = seen.withLock { data in
                        data.append(chunk)
                        return String(decoding: data, as: UTF8.self)
                    }
                    return !text.contains("SeaBIOS")
                }
                outcome.withLock { $0 = ended ? "eof" : "stopped" }
            } catch {
                outcome.withLock { $0 = "error: \(error)" }
            }
            done.signal()
        }
        reader.start()
        if done.wait(timeout: .now() + 60) == .timedOut {
            try? console.abort()
            _ = done.wait(timeout: .now() + 10)
        }
        let text = seen.withLock { String(decoding: $0, as: UTF8.self) }
        #expect(outcome.withLock { $0 } == "stopped", "console read: \(text)")
        #expect(text.contains("SeaBIOS"))
        try console.abort()
    }

    @Test func abortFromAnotherThreadStopsABlockedReader() throws {
        let connection = try Connection(uri: Self.uri)
        let domain = try connection.defineDomain(xml: Self.consoleDomainXML(name: Self.uniqueName("abort")))
        defer {
            try? domain.destroy()
            try? domain.undefine()
        }
        try domain.create(flags: .paused)  // a paused guest prints nothing
        let console = try domain.openConsole(flags: .force)

        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Data?, LibvirtError>?>(nil)
        let reader = Thread {
            let result = Result { () throws(LibvirtError) in try console.receive() }
            outcome.withLock { $0 = result }
            done.signal()
        }
        reader.start()
        // The reader is blocked: a paused guest writes nothing.
        #expect(done.wait(timeout: .now() + 2) == .timedOut)
        try console.abort()
        #expect(done.wait(timeout: .now() + 10) == .success)
        // The blocked virStreamRecv returns with an error once the stream is aborted.
        let result = try #require(outcome.withLock { $0 })
        guard case .failure(let error) = result else {
            Issue.record("reader returned \(result) instead of failing")
            return
        }
        #expect(error.code == .operationFailed)
        #expect(error.message == "operation failed: stream is closed")

        // A reader also ends when the guest goes away under it.
        let second = try domain.openConsole(flags: .force)
        let secondDone = DispatchSemaphore(value: 0)
        let secondOutcome = Mutex<Result<Data?, LibvirtError>?>(nil)
        Thread {
            let result = Result { () throws(LibvirtError) in try second.receive() }
            secondOutcome.withLock { $0 = result }
            secondDone.signal()
        }.start()
        #expect(secondDone.wait(timeout: .now() + 2) == .timedOut)
        try domain.destroy()
        #expect(secondDone.wait(timeout: .now() + 20) == .success)
        // End of stream, which the reader then finishes cleanly.
        #expect(secondOutcome.withLock { $0 } == .success(nil))
        try second.finish()
    }
}
