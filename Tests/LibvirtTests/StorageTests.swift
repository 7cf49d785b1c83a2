import Foundation
import Testing

@testable import Libvirt

/// Storage XML shared by the test-driver and system tests.
enum StorageXML {
    static func dirPool(name: String, path: String) -> String {
        """
        <pool type='dir'>
          <name>\(name)</name>
          <target><path>\(path)</path></target>
        </pool>
        """
    }

    static func volume(name: String, format: String, capacityBytes: UInt64) -> String {
        """
        <volume>
          <name>\(name)</name>
          <capacity unit='bytes'>\(capacityBytes)</capacity>
          <target><format type='\(format)'/></target>
        </volume>
        """
    }

    static func overlay(name: String, capacityBytes: UInt64, backingPath: String) -> String {
        """
        <volume>
          <name>\(name)</name>
          <capacity unit='bytes'>\(capacityBytes)</capacity>
          <target><format type='qcow2'/></target>
          <backingStore>
            <path>\(backingPath)</path>
            <format type='qcow2'/>
          </backingStore>
        </volume>
        """
    }
}

@Suite("Storage pools and volumes on the test driver")
struct StorageTests {
    static let poolPath = "/var/lib/nestlab/test-pool"
    static let gib: UInt64 = 1 << 30

    /// A defined, built and started dir pool on a fresh test host.
    static func startedPool() throws -> (Connection, StoragePool) {
        let connection = try TestHost.connect()
        let pool = try connection.defineStoragePool(
            xml: StorageXML.dirPool(name: "nl-pool", path: poolPath))
        try pool.build()
        try pool.create()
        return (connection, pool)
    }

    @Test func poolLifecycle() throws {
        let connection = try TestHost.connect()
        let pool = try connection.defineStoragePool(
            xml: StorageXML.dirPool(name: "nl-pool", path: Self.poolPath))
        #expect(pool.name == "nl-pool")
        #expect(pool.uuid.count == 36)
        #expect(try !pool.isActive())
        #expect(try pool.isPersistent())
        #expect(try connection.listAllStoragePools(.inactive).map(\.name) == ["nl-pool"])

        try pool.build()
        try pool.create()
        #expect(try pool.isActive())
        #expect(try connection.listAllStoragePools([.active, .dir]).map(\.name) == ["nl-pool"])
        #expect(try connection.storagePool(named: "nl-pool").isActive())
        #expect(try pool.targetPath() == Self.poolPath)
        let info = try pool.info()
        #expect(info.state == .running)
        // The test driver reports a fixed 100 GiB pool.
        #expect(info.capacity == 100 * Self.gib)
        #expect(info.allocation == 0)
        #expect(info.available == 100 * Self.gib)
        try pool.refresh()

        try pool.destroy()
        #expect(try !pool.isActive())
        #expect(try pool.info().state == .inactive)
        try pool.undefine()
        #expect(try connection.listAllStoragePools().isEmpty)
        #expect(try connection.storagePoolIfExists(named: "nl-pool") == nil)
    }

    @Test func missingPoolIsNoStoragePool() throws {
        let connection = try TestHost.connect()
        let error = try #require(throws: LibvirtError.self) {
            _ = try connection.storagePool(named: "nl-nopool")
        }
        #expect(error.code == .noStoragePool)
        #expect(error.message.contains("'nl-nopool'"))
    }

    @Test func baseAndQcow2OverlayWithBackingStore() throws {
        let (connection, pool) = try Self.startedPool()
        let base = try pool.createVolume(
            xml: StorageXML.volume(name: "base.qcow2", format: "qcow2", capacityBytes: 2 * Self.gib))
        let basePath = try base.path()
        #expect(basePath == "\(Self.poolPath)/base.qcow2")

        let overlay = try pool.createVolume(
            xml: StorageXML.overlay(
                name: "cp.qcow2", capacityBytes: 10 * Self.gib, backingPath: basePath))
        #expect(overlay.name == "cp.qcow2")
        #expect(try overlay.path() == "\(Self.poolPath)/cp.qcow2")
        #expect(overlay.key == "\(Self.poolPath)/cp.qcow2")
        let info = try overlay.info()
        #expect(info.type == .file)
        #expect(info.capacity == 10 * Self.gib)
        let xml = try overlay.xmlDesc()
        #expect(xml.contains("<format type='qcow2'/>"))
        #expect(
            xml.contains("<backingStore>\n    <path>\(basePath)</path>\n    <format type='qcow2'/>\n  </backingStore>"))

        #expect(try pool.listAllVolumes().map(\.name).sorted() == ["base.qcow2", "cp.qcow2"])
        #expect(try pool.volume(named: "cp.qcow2").key == overlay.key)
        #expect(try connection.storageVolume(path: basePath).name == "base.qcow2")
        #expect(try connection.storageVolume(key: overlay.key).name == "cp.qcow2")
        #expect(try overlay.pool().name == "nl-pool")

        try overlay.delete()
        #expect(try pool.listAllVolumes().map(\.name) == ["base.qcow2"])
        #expect(try pool.volumeIfExists(named: "cp.qcow2") == nil)
        let error = try #require(throws: LibvirtError.self) {
            _ = try pool.volume(named: "cp.qcow2")
        }
        #expect(error.code == .noStorageVol)
        #expect(error.message.contains("cp.qcow2"))
    }

    @Test func transientPoolVanishesOnDestroy() throws {
        let connection = try TestHost.connect()
        let pool = try connection.createStoragePool(
            xml: StorageXML.dirPool(name: "nl-tmp", path: "/var/lib/nestlab/tmp"))
        #expect(try pool.isActive())
        #expect(try !pool.isPersistent())
        try pool.destroy()
        #expect(try connection.storagePoolIfExists(named: "nl-tmp") == nil)
    }

    @Test func cloneCreatesAVolumeOfTheGivenName() throws {
        let (_, pool) = try Self.startedPool()
        let source = try pool.createVolume(
            xml: StorageXML.volume(name: "src.qcow2", format: "qcow2", capacityBytes: Self.gib))
        let clone = try pool.createVolume(
            xml: StorageXML.volume(name: "copy.qcow2", format: "qcow2", capacityBytes: Self.gib),
            cloningFrom: source)
        #expect(clone.name == "copy.qcow2")
        #expect(try pool.listAllVolumes().map(\.name).sorted() == ["copy.qcow2", "src.qcow2"])
    }

    @Test func duplicateVolumeNameIsRejected() throws {
        let (_, pool) = try Self.startedPool()
        let xml = StorageXML.volume(name: "dup.raw", format: "raw", capacityBytes: 1 << 20)
        _ = try pool.createVolume(xml: xml)
        let error = try #require(throws: LibvirtError.self) { _ = try pool.createVolume(xml: xml) }
        // The test driver says operationFailed; the storage driver says storageVolExists.
        #expect(error.code == .operationFailed)
        #expect(error.message == "operation failed: storage vol already exists")
        #expect(try pool.listAllVolumes().count == 1)
    }

    @Test func uploadAnswersNoSupportOnTheTestDriver() throws {
        let (_, pool) = try Self.startedPool()
        let volume = try pool.createVolume(
            xml: StorageXML.volume(name: "seed.iso", format: "raw", capacityBytes: 1 << 20))
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("nestlab-upload-\(UUID().uuidString)").path
        try Data("#cloud-config\n".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }

        let fromFile = try #require(throws: LibvirtError.self) {
            try volume.upload(fromFile: file)
        }
        #expect(fromFile.code == .noSupport)
        #expect(fromFile.message.contains("virStorageVolUpload"))

        let fromData = try #require(throws: LibvirtError.self) {
            try volume.upload(Data("x".utf8))
        }
        #expect(fromData.code == .noSupport)

        let download = try #require(throws: LibvirtError.self) { _ = try volume.download() }
        #expect(download.code == .noSupport)
        #expect(download.message.contains("virStorageVolDownload"))
    }

    @Test func uploadOfAMissingLocalFileFailsBeforeLibvirt() throws {
        let (_, pool) = try Self.startedPool()
        let volume = try pool.createVolume(
            xml: StorageXML.volume(name: "v.raw", format: "raw", capacityBytes: 1 << 20))
        let error = try #require(throws: LibvirtError.self) {
            try volume.upload(fromFile: "/nonexistent/nestlab/image.qcow2")
        }
        #expect(error.code == .systemError)
        #expect(
            error.message
                == "cannot open '/nonexistent/nestlab/image.qcow2' for reading: No such file or directory (errno 2)")
    }

    @Test func failedDownloadLeavesNoPartialFile() throws {
        let (_, pool) = try Self.startedPool()
        let volume = try pool.createVolume(
            xml: StorageXML.volume(name: "d.raw", format: "raw", capacityBytes: 1 << 20))
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("nestlab-download-\(UUID().uuidString)").path
        let error = try #require(throws: LibvirtError.self) {
            try volume.download(toFile: file)
        }
        #expect(error.code == .noSupport)
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func targetPathIsReadFromPoolXML() {
        let xml = """
            <pool type='dir'>
              <name>p</name>
              <source>
              </source>
              <target>
                <path>/srv/a&amp;b &lt;lab&gt;&#x41;&#66;</path>
                <permissions><mode>0711</mode></permissions>
              </target>
            </pool>
            """
        #expect(StoragePool.targetPath(fromXML: xml) == "/srv/a&b <lab>AB")
        #expect(StoragePool.targetPath(fromXML: "<pool type='rbd'><name>r</name></pool>") == nil)
        #expect(StoragePool.targetPath(fromXML: "<pool><target></target></pool>") == nil)
    }

    @Test func unescapeLeavesUnknownEntitiesAlone() {
        #expect(unescapeXML("a&bogus;b&amp;") == "a&bogus;b&")
        #expect(unescapeXML("trailing &amp") == "trailing &amp")
        #expect(unescapeXML("plain") == "plain")
    }
}
