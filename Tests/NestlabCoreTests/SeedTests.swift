import Foundation
import Spawn
import Testing

@testable import NestlabCore

/// The NoCloud seed writer, checked with the tools that read ISO images for real:
/// isoinfo (cdrkit), xorriso (libisofs) and blkid (util-linux).
@Suite struct SeedTests {
    static let userData = "#cloud-config\nhostname: cp\nfinal_message: \"nestlab: cloud-init finished\"\n"
    static let metaData = "instance-id: lab-cp\nlocal-hostname: cp\n"
    static let networkConfig = """
        version: 2
        ethernets:
          primary:
            match: {macaddress: "52:54:00:00:00:11"}
            set-name: eth0
            addresses: [10.77.0.11/24]
            routes: [{to: default, via: 10.77.0.1}]

        """

    static var seed: NoCloudSeed {
        NoCloudSeed(userData: userData, metaData: metaData, networkConfig: networkConfig)
    }

    @Test func volumeDescriptorsNameCidataAndJoliet() throws {
        let dir = try ScratchDir()
        let iso = try dir.write("seed.iso", Self.seed.image().bytes)
        let info = try ToolRun.run("isoinfo", "-d", "-i", iso.path)
        #expect(info.contains("Volume id: cidata\n"))
        #expect(info.contains("Joliet with UCS level 3 found"))
        #expect(info.contains("Logical block size is: 2048"))
        // Volume size is reported in sectors and must match the file.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: iso.path)[.size] as? Int)
        #expect(info.contains("Volume size is: \(size / 2048)\n"))
    }

    @Test func jolietListingHasExactNames() throws {
        let dir = try ScratchDir()
        let iso = try dir.write("seed.iso", Self.seed.image().bytes)
        let listing = try ToolRun.run("isoinfo", "-J", "-l", "-i", iso.path)
        let names = listing.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("-") else { return nil }  // regular files only
            return line.split(separator: " ").last.map(String.init)
        }
        #expect(names == ["meta-data", "network-config", "user-data"])
    }

    @Test func isoinfoExtractsExactBytes() throws {
        let dir = try ScratchDir()
        let seed = Self.seed
        let iso = try dir.write("seed.iso", seed.image().bytes)
        for file in seed.files {
            let extracted = try ToolRun.runData("isoinfo", "-J", "-x", "/" + file.name, "-i", iso.path)
            #expect(extracted == file.contents, "\(file.name) differs after extraction")
        }
    }

    /// Sizes around sector boundaries, an empty file, and a file spanning many sectors.
    @Test(arguments: [0, 1, 2047, 2048, 2049, 4096, 70_001])
    func extractsFilesOfAnySize(size: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let contents = Data((0..<size).map { _ in UInt8.random(in: .min ... .max, using: &rng) })
        let seed = NoCloudSeed(userData: contents, metaData: Data("instance-id: x\n".utf8), networkConfig: Data())
        let dir = try ScratchDir()
        let iso = try dir.write("seed.iso", seed.image().bytes)
        #expect(try ToolRun.runData("isoinfo", "-J", "-x", "/user-data", "-i", iso.path) == contents)
        #expect(try ToolRun.runData("isoinfo", "-J", "-x", "/network-config", "-i", iso.path) == Data())
        #expect(
            try ToolRun.runData("isoinfo", "-J", "-x", "/meta-data", "-i", iso.path) == Data("instance-id: x\n".utf8))
    }

    @Test func blkidSeesIso9660LabelledCidata() throws {
        let dir = try ScratchDir()
        let iso = try dir.write("seed.iso", Self.seed.image().bytes)
        let export = try ToolRun.run("blkid", "-p", "-o", "export", iso.path)
        let fields = Set(export.split(separator: "\n").map(String.init))
        #expect(fields.contains("TYPE=iso9660"))
        #expect(fields.contains("LABEL=cidata"))
    }

    /// A second, independent reader: libisofs via xorriso, reading the Joliet tree.
    @Test func xorrisoExtractsTheSameFiles() throws {
        let dir = try ScratchDir()
        let seed = Self.seed
        let iso = try dir.write("seed.iso", seed.image().bytes)
        let out = dir.url.appendingPathComponent("out")
        _ = try ToolRun.run(
            "xorriso", "-abort_on", "FAILURE", "-return_with", "SORRY", "32",
            "-rockridge", "off", "-joliet", "on", "-osirrox", "on", "-indev", iso.path, "-extract", "/", out.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["meta-data", "network-config", "user-data"])
        for file in seed.files {
            #expect(try Data(contentsOf: out.appendingPathComponent(file.name)) == file.contents)
        }
        let toc = try ToolRun.run(
            "xorriso", "-abort_on", "FAILURE", "-return_with", "SORRY", "32",
            "-joliet", "on", "-indev", iso.path, "-toc")
        #expect(toc.contains("ISO loaded   : Joliet\n"))
        let sectors = try seed.image().bytes.count / 2048
        #expect(toc.contains("ISO session  :   1 ,         0 ,        \(sectors)s , cidata\n"))
    }

    /// The reference tool's image of the same files shows the same Joliet names and sizes.
    @Test func matchesGenisoimageListing() throws {
        let dir = try ScratchDir()
        let seed = Self.seed
        let source = dir.url.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        for file in seed.files {
            try file.contents.write(to: source.appendingPathComponent(file.name))
        }
        let reference = dir.url.appendingPathComponent("reference.iso")
        _ = try ToolRun.run(
            "genisoimage", "-quiet", "-o", reference.path, "-volid", "cidata", "-joliet", "-rock", source.path)
        let ours = try dir.write("ours.iso", seed.image().bytes)

        // "----------   0    0    0   27 Jan  1 1970 [     26 00]  user-data": keep size and name.
        func files(_ iso: URL) throws -> [String] {
            try ToolRun.run("isoinfo", "-J", "-l", "-i", iso.path).split(separator: "\n")
                .filter { $0.hasPrefix("-") }
                .map { line in
                    let fields = line.split(separator: " ")
                    return "\(fields[4]) \(fields.last ?? "")"
                }
        }
        #expect(try files(ours) == (try files(reference)))
        #expect(
            try files(ours) == [
                "\(Self.metaData.utf8.count) meta-data",
                "\(Self.networkConfig.utf8.count) network-config",
                "\(Self.userData.utf8.count) user-data",
            ])

        func label(_ iso: URL) throws -> [String] {
            try ToolRun.run("blkid", "-p", "-o", "export", iso.path).split(separator: "\n")
                .filter { $0.hasPrefix("TYPE=") || $0.hasPrefix("LABEL=") }.map(String.init)
        }
        #expect(try label(ours) == (try label(reference)))
    }

    /// Mounts the image with the kernel's isofs when this machine allows it.
    ///
    /// Containers often have no loop devices or no iso9660 module; then only this part is
    /// skipped (the isoinfo, xorriso and blkid tests above still run).
    @Test func kernelMountShowsTheFiles() throws {
        let dir = try ScratchDir()
        let seed = Self.seed
        let iso = try dir.write("seed.iso", seed.image().bytes)
        let mountPoint = dir.url.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = try ToolRun.status("mount", "-t", "iso9660", "-o", "loop,ro", iso.path, mountPoint.path)
        guard mount.code == 0 else {
            print("skipping the kernel mount check: mount failed here: \(mount.output)")
            return
        }
        defer { _ = try? ToolRun.status("umount", mountPoint.path) }
        let names = try FileManager.default.contentsOfDirectory(atPath: mountPoint.path).sorted()
        #expect(names == ["meta-data", "network-config", "user-data"])
        for file in seed.files {
            #expect(try Data(contentsOf: mountPoint.appendingPathComponent(file.name)) == file.contents)
        }
    }

    @Test func sameInputGivesSameBytes() throws {
        let first = try Self.seed.image()
        let second = try Self.seed.image()
        #expect(first.bytes == second.bytes)
        #expect(first.sha256 == second.sha256)
        #expect(first.fileName(prefix: "lab-cp") == "lab-cp-seed-\(first.sha256.prefix(16)).iso")

        // The hash really is the SHA-256 of the bytes, as sha256sum computes it.
        let dir = try ScratchDir()
        let iso = try dir.write("seed.iso", first.bytes)
        #expect(try ToolRun.run("sha256sum", iso.path).hasPrefix(first.sha256 + " "))

        var changed = Self.seed
        changed.metaData = Data("instance-id: lab-cp-2\n".utf8)
        #expect(try changed.image().sha256 != first.sha256)
        #expect(try Self.seed.image(date: Date(timeIntervalSince1970: 1_700_000_000)).sha256 != first.sha256)
    }

    @Test func dateIsStampedInUTC() throws {
        let dir = try ScratchDir()
        // 2024-02-29 12:34:56 UTC
        let iso = try dir.write("seed.iso", Self.seed.image(date: Date(timeIntervalSince1970: 1_709_210_096)).bytes)
        let export = try ToolRun.run("blkid", "-p", "-o", "export", iso.path)
        // blkid derives the iso9660 UUID from the volume creation date.
        #expect(export.split(separator: "\n").contains("UUID=2024-02-29-12-34-56-00"))
    }

    /// More files than fit one directory sector, so directories span several sectors.
    @Test func manyFilesSpanSeveralDirectorySectors() throws {
        let files = (0..<80).map { i in
            ISO9660Writer.File(name: "file-with-a-long-name-\(i)", contents: Data("content \(i)\n".utf8))
        }
        let bytes = try ISO9660Writer(volumeIdentifier: "cidata").image(files: files)
        let dir = try ScratchDir()
        let iso = try dir.write("many.iso", bytes)
        let listing = try ToolRun.run("isoinfo", "-J", "-l", "-i", iso.path)
        let names = listing.split(separator: "\n").filter { $0.hasPrefix("-") }.compactMap {
            $0.split(separator: " ").last
        }
        #expect(Set(names.map(String.init)) == Set(files.map(\.name)))
        for file in [files[0], files[41], files[79]] {
            #expect(try ToolRun.runData("isoinfo", "-J", "-x", "/" + file.name, "-i", iso.path) == file.contents)
        }
        // The primary (8.3) tree needs unique aliases for names that share a prefix.
        let primary = try ToolRun.run("isoinfo", "-l", "-i", iso.path)
        let aliases = primary.split(separator: "\n").filter { $0.hasPrefix("-") }.compactMap {
            $0.split(separator: " ").last
        }
        #expect(Set(aliases).count == 80)
    }

    @Test func rejectsNamesJolietCannotHold() {
        let writer = ISO9660Writer(volumeIdentifier: "cidata")
        let one = Data("x".utf8)
        #expect(throws: ISO9660Error.duplicateName("user-data")) {
            try writer.image(files: [.init(name: "user-data", contents: one), .init(name: "user-data", contents: one)])
        }
        #expect(throws: ISO9660Error.invalidName("a/b", reason: "Joliet forbids the characters * / : ; ? \\")) {
            try writer.image(files: [.init(name: "a/b", contents: one)])
        }
        #expect(throws: ISO9660Error.invalidName("", reason: "it is empty")) {
            try writer.image(files: [.init(name: "", contents: one)])
        }
        let long = String(repeating: "a", count: 65)
        #expect(throws: ISO9660Error.invalidName(long, reason: "it is longer than 64 characters")) {
            try writer.image(files: [.init(name: long, contents: one)])
        }
        #expect(throws: ISO9660Error.invalidVolumeIdentifier("ci data")) {
            try ISO9660Writer(volumeIdentifier: "ci data").image(files: [])
        }
        #expect(
            ISO9660Error.duplicateName("user-data").description
                == "file 'user-data' appears twice in the seed image; names must be unique")
    }
}

// MARK: - helpers

/// A temporary directory removed when the value goes away.
final class ScratchDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-test-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ data: Data) throws -> URL {
        let file = url.appendingPathComponent(name)
        try data.write(to: file)
        return file
    }
}

/// Runs the real command-line tools the tests compare against.
enum ToolRun {
    struct Failure: Error, CustomStringConvertible {
        let command: [String]
        let code: Int32
        let output: String
        var description: String { "\(command.joined(separator: " ")) exited \(code): \(output)" }
    }

    /// Runs `arguments` (looked up on PATH) with optional stdin; returns stdout, exit code and stderr.
    static func raw(_ arguments: [String], stdin: Data? = nil) throws -> (stdout: Data, code: Int32, stderr: String) {
        let r = try SpawnedProcess.run(["/usr/bin/env"] + arguments, input: stdin)
        return (r.stdout, r.status, r.errors)
    }

    static func runData(_ arguments: String..., stdin: Data? = nil) throws -> Data {
        let result = try raw(arguments, stdin: stdin)
        guard result.code == 0 else { throw Failure(command: arguments, code: result.code, output: result.stderr) }
        return result.stdout
    }

    static func run(_ arguments: String..., stdin: Data? = nil) throws -> String {
        let result = try raw(arguments, stdin: stdin)
        guard result.code == 0 else { throw Failure(command: arguments, code: result.code, output: result.stderr) }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    static func status(_ arguments: String...) throws -> (code: Int32, output: String) {
        let result = try raw(arguments)
        return (result.code, String(decoding: result.stdout, as: UTF8.self) + result.stderr)
    }
}
