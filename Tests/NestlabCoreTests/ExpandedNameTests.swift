import Foundation
import Testing

@testable import NestlabCore

/// Issue 21, class 8: names are checked as nestlab will use them, after `count` and the lab
/// prefix, at the line of the name they come from.
@Suite struct ExpandedNameTests {
    static func machine(_ name: String, count: Int?) -> String {
        """
        name: a-lab-name-of-thirty-chars-xx
        images: {deb: {file: /x.qcow2}}
        networks: {lab: {mode: nat, cidr: 10.77.0.0/16}}
        machines:
          - disk: 4GiB
            name: \(name)
        \(count.map { "    count: \($0)" } ?? "")
        """
    }

    /// (name length, count, refused)
    @Test(
        arguments: [
            (63, nil, false), (64, nil, true), (61, 10, false), (62, 10, true), (59, 1000, false), (60, 1000, true),
            (58, 4096, false), (59, 4096, true), (200, nil, true),
        ] as [(Int, Int?, Bool)])
    func hostNamesFitALabelAfterCount(_ length: Int, _ count: Int?, _ refused: Bool) {
        let name = "m" + String(repeating: "x", count: length - 1)
        let e = HostileInputTests.errors(Self.machine(name, count: count))
        if refused {
            #expect(
                e.count == 1 && e[0].hasPrefix("h.yaml:6:") && e[0].contains("host name")
                    && e[0].contains("more than the 63 allowed"), "\(e)")
        } else {
            #expect(e == [], "\(length) \(String(describing: count))")
        }
    }

    @Test(arguments: ["${BR}", "br-with-16-chars", "br/0", "br 0", "br:0", "..", "ｂｒｉｄｇｅｂｒ"])
    func bridgeNamesAreLinuxInterfaceNames(_ bridge: String) {
        let yaml = """
            name: br
            images: {deb: {file: /x.qcow2}}
            networks:
              seg:
                mode: bridge
                bridge: "\(bridge)"
                cidr: 10.251.0.0/24
                gateway: 10.251.0.1
            machines: [{name: m}]
            """
        let e: [String]
        do {
            _ = try TopologyParser(environment: ["BR": "a-bridge-too-long"]).load(data: Data(yaml.utf8), file: "h.yaml")
            e = []
        } catch let err as TopologyError {
            e = err.diagnostics.filter { $0.severity == .error }.map(\.description)
        } catch { e = ["\(error)"] }
        #expect(e.count == 1 && e[0].hasPrefix("h.yaml:6:") && e[0].contains("bridge '"), "\(bridge): \(e)")
    }

    @Test func fifteenCharacterBridgesAreFine() {
        #expect(ExpandedNames.interfaceProblem("br-fifteen-char") == nil)
        #expect(ExpandedNames.interfaceProblem("nl0123abcd") == nil)
    }

    @Test func everyDerivedNameHasItsLimit() {
        let lab = String(repeating: "l", count: 30)
        #expect(ExpandedNames.problem(lab: lab, instance: String(repeating: "m", count: 63)) == nil)
        #expect(ExpandedNames.problem(lab: String(repeating: "l", count: 200), instance: "m") == nil)
        #expect(ExpandedNames.problem(lab: String(repeating: "l", count: 250), instance: "m")?.contains("FQDN") == true)
        #expect(
            ExpandedNames.problem(lab: String(repeating: "l", count: 240), instance: "m")?.contains("seed volume")
                == true)
        let longFile = ExpandedNames.derived(lab: String(repeating: "l", count: 240), instance: "m").first {
            $0.what == "seed volume"
        }!
        #expect(longFile.name.utf8.count > ExpandedNames.fileName)
    }
}

/// Issue 21, class 9: a local file the topology names, or an `${ENV}` it uses, is checked at
/// `validate`, at its line.
@Suite struct LocalFileTests {
    static func errors(_ images: String, env: [String: String] = [:]) -> [String] {
        let yaml = """
            name: files
            images:
              deb:
            \(images)
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            machines: [{name: m}]
            """
        do {
            _ = try TopologyParser(environment: env, checksFiles: true).load(data: Data(yaml.utf8), file: "/tmp/h.yaml")
            return []
        } catch let e as TopologyError {
            return e.diagnostics.filter { $0.severity == .error }.map(\.description)
        } catch {
            return ["other: \(error)"]
        }
    }

    static let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-localfiles-\(getpid())")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: d.appendingPathComponent("disk.qcow2").path, contents: Data("x".utf8))
        FileManager.default.createFile(atPath: d.appendingPathComponent("vmlinuz").path, contents: Data("x".utf8))
        FileManager.default.createFile(
            atPath: d.appendingPathComponent("secret.qcow2").path, contents: Data("x".utf8),
            attributes: [.posixPermissions: 0o000])
        try? FileManager.default.createSymbolicLink(
            atPath: d.appendingPathComponent("link.qcow2").path, withDestinationPath: "disk.qcow2")
        return d
    }()

    /// (image keys, line of the error, what it says)
    @Test(arguments: [
        ("    file: /nonexistent/disk.qcow2", 4, "does not exist"),
        ("    file: DIR", 4, "is a directory"),
        ("    file: DIR/disk.qcow2\n    kernel: DIR/missing-vmlinuz", 5, "does not exist"),
        ("    file: DIR/disk.qcow2\n    kernel: DIR/vmlinuz\n    initrd: DIR/initrd.img", 6, "does not exist"),
        ("    file: /dev/null", 4, "is not a regular file"),
        ("    file: ${NESTLAB_NOT_SET}/disk.qcow2", 4, "environment variable 'NESTLAB_NOT_SET' is not set"),
        ("    file: relative-and-missing.qcow2", 4, "'/tmp/relative-and-missing.qcow2' does not exist"),
    ])
    func aMissingLocalFileIsAnErrorAtItsLine(_ keys: String, _ line: Int, _ message: String) {
        let e = Self.errors(keys.replacingOccurrences(of: "DIR", with: Self.dir.path))
        #expect(e.count == 1 && e[0].hasPrefix("/tmp/h.yaml:\(line):") && e[0].contains(message), "\(e)")
    }

    @Test func anUnreadableFileIsAnErrorUnlessRoot() {
        let e = Self.errors("    file: \(Self.dir.path)/secret.qcow2")
        if getuid() == 0 { #expect(e == []) } else { #expect(e.count == 1 && e[0].contains("cannot be read"), "\(e)") }
    }

    @Test func existingFilesAndLinksPass() {
        #expect(Self.errors("    file: \(Self.dir.path)/link.qcow2\n    kernel: \(Self.dir.path)/vmlinuz") == [])
        #expect(Self.errors("    file: ${D}/disk.qcow2", env: ["D": Self.dir.path]) == [])
    }

    @Test func withoutTheCheckFilesAreNotLookedAt() throws {
        let yaml =
            "name: f\nimages: {deb: {file: /nonexistent.qcow2}}\nnetworks: {lab: {mode: nat, cidr: 10.77.0.0/24}}\nmachines: [{name: m}]\n"
        _ = try TopologyParser(environment: [:]).load(data: Data(yaml.utf8), file: "f.yaml")
    }
}
