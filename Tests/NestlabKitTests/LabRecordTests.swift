import Foundation
import NestlabCore
import Testing

@testable import NestlabKit

/// The lab's `state.json`: what it holds, byte for byte, and how it is read back, refused and migrated.
@Suite struct LabRecordTests {
    /// A lab state folder in a fresh temporary root, removed by `cleanUp`.
    final class TempState {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-record-\(UUID().uuidString)")
        var store: StateStore { StateStore(root: root) }
        var state: LabState { store.lab("demo") }
        deinit { try? FileManager.default.removeItem(at: root) }

        func write(_ text: String, to url: URL) throws {
            try state.create()
            try Data(text.utf8).write(to: url)
        }
    }

    static let record = LabRecord(
        lab: "demo", topologyPath: "/labs/demo/../demo/lab.yaml",
        topologyDigest: "5f0c1d6e4b0a9c2f5e7a8b3d1c6f4e2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e",
        hosts: [
            LabRecord.Host(name: "h1", libvirt: "qemu:///system"),
            LabRecord.Host(name: "h2", libvirt: "qemu+ssh://root@10.0.0.2/system"),
        ],
        updatedAt: Date(timeIntervalSince1970: 1_700_000_000))

    @Test func writesTheseBytesWithMode0600() throws {
        let t = TempState()
        try Self.record.save(t.state)
        let text = try String(contentsOf: t.state.recordFile, encoding: .utf8)
        #expect(
            text == """
                {
                  "hosts" : [
                    {
                      "libvirt" : "qemu:///system",
                      "name" : "h1"
                    },
                    {
                      "libvirt" : "qemu+ssh://root@10.0.0.2/system",
                      "name" : "h2"
                    }
                  ],
                  "lab" : "demo",
                  "topologyDigest" : "5f0c1d6e4b0a9c2f5e7a8b3d1c6f4e2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e",
                  "topologyPath" : "/labs/demo/lab.yaml",
                  "updatedAt" : "2023-11-14T22:13:20Z",
                  "version" : 1
                }

                """)
        #expect(t.state.recordFile.lastPathComponent == "state.json")
        var st = stat()
        #expect(stat(t.state.recordFile.path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        // Written atomically: nothing else (no temporary file) is left beside it.
        let names = try FileManager.default.contentsOfDirectory(atPath: t.state.dir.path).sorted()
        #expect(names == ["logs", "state.json"])
    }

    @Test func aRelativeTopologyPathIsRecordedAbsolute() {
        let r = LabRecord(lab: "demo", topologyPath: "lab.yaml", topologyDigest: "d", hosts: [], updatedAt: Date())
        #expect(r.topologyPath == FileManager.default.currentDirectoryPath + "/lab.yaml")
        #expect(r.version == LabRecord.currentVersion)
    }

    @Test func readsBackWhatItWrote() throws {
        let t = TempState()
        try Self.record.save(t.state)
        #expect(try LabRecord.load(t.state) == Self.record)
        // Written again (the next up): replaced, still readable.
        var next = Self.record
        next.hosts.removeLast()
        next.updatedAt = Date(timeIntervalSince1970: 1_800_000_000)
        try next.save(t.state)
        #expect(try LabRecord.load(t.state) == next)
    }

    @Test func aFolderWithoutARecordHasNone() throws {
        let t = TempState()
        #expect(try LabRecord.load(t.state) == nil)
        try t.state.create()
        #expect(try LabRecord.load(t.state) == nil)
    }

    @Test func aNewerVersionIsRefusedWithTheFileAndBothVersions() throws {
        let t = TempState()
        // A newer nestlab may have changed the shape too: only the version is read.
        try t.write(#"{"version": 2, "labName": "demo", "source": {"path": "/x.yaml"}}"#, to: t.state.recordFile)
        let file = t.state.recordFile.path
        let error = #expect(throws: LabRecordError.self) { try LabRecord.load(t.state) }
        #expect(error == .newerVersion(file: file, version: 2, supported: 1))
        #expect(
            error?.description
                == "\(file) is lab state version 2, written by a newer nestlab; this nestlab reads version 1 at most: use a newer nestlab with this lab"
        )
    }

    @Test(arguments: [
        ("{\"version\": 1, ", "the given data was not valid JSON"),
        ("[1, 2]", "the top level: expected Dictionary<String, Any>"),
        ("{\"lab\": \"demo\"}", "missing key 'version'"),
        ("{\"version\": \"1\"}", "version: expected Int"),
        ("{\"version\": 0}", "version 0 is not one nestlab writes (1 to 1)"),
        (
            #"{"version": 1, "lab": "demo", "topologyPath": "/x.yaml", "hosts": [], "updatedAt": "2023-11-14T22:13:20Z"}"#,
            "missing key 'topologyDigest'"
        ),
        (
            #"{"version": 1, "lab": "demo", "topologyPath": "/x.yaml", "topologyDigest": "d", "hosts": [{"name": 7, "libvirt": "test:///default"}], "updatedAt": "2023-11-14T22:13:20Z"}"#,
            "hosts[0].name: expected String"
        ),
        (
            #"{"version": 1, "lab": "demo", "topologyPath": "/x.yaml", "topologyDigest": "d", "hosts": [], "updatedAt": "yesterday"}"#,
            "expected date string to be ISO8601-formatted"
        ),
    ])
    func aMalformedFileNamesTheFileAndTheProblem(text: String, problem: String) throws {
        let t = TempState()
        try t.write(text, to: t.state.recordFile)
        let file = t.state.recordFile.path
        let error = #expect(throws: LabRecordError.self) { try LabRecord.load(t.state) }
        guard case .malformed(let f, let p) = error else {
            Issue.record("not .malformed: \(String(describing: error))")
            return
        }
        #expect(f == file)
        #expect(p.contains(problem), "\(p)")
        #expect(
            error?.description
                == "\(file) is not a valid lab state file: \(p); remove it, and `nestlab up TOPOLOGY` writes it again")
    }

    @Test func anOlderNestlabsTopologyPathIsReadAsVersion0AndReplacedOnTheNextWrite() throws {
        let t = TempState()
        try t.write("/labs/demo/lab.yaml\n", to: t.state.legacySourceFile)
        let old = try #require(try LabRecord.load(t.state))
        #expect(old.version == 0)
        #expect(old.lab == "demo")
        #expect(old.topologyPath == "/labs/demo/lab.yaml")
        #expect(old.topologyDigest == nil && old.hosts.isEmpty && old.updatedAt == nil)

        try Self.record.save(t.state)
        #expect(!FileManager.default.fileExists(atPath: t.state.legacySourceFile.path))
        #expect(try LabRecord.load(t.state) == Self.record)
        // An empty topology-path is no record (as before: no topology found).
        try FileManager.default.removeItem(at: t.state.recordFile)
        try t.write("\n", to: t.state.legacySourceFile)
        #expect(try LabRecord.load(t.state) == nil)
    }

    /// `up` writes the record from its session; a lab name then finds the topology through it,
    /// and through an older nestlab's `topology-path` as well.
    @Test func upRecordsTheLabAndALabNameFindsItsTopology() async throws {
        let lab = try KitLab(name: "kr")
        let flags = RunFlags(format: .json, plain: true, verbose: false)
        try await LifecycleCommands.up(
            file: lab.topologyPath, options: KitLab.upOptions(), flags: flags, skipPreflight: true,
            sessionOptions: lab.options)
        let state = lab.store.lab("kr")
        let r = try #require(try LabRecord.load(state))
        let topology = try TopologyParser(environment: lab.environment).load(path: lab.topologyPath).0
        #expect(r.version == 1)
        #expect(r.lab == "kr")
        #expect(r.topologyPath == URL(fileURLWithPath: lab.topologyPath).standardizedFileURL.path)
        #expect(r.topologyDigest == topology.digest)
        #expect(r.hosts == [LabRecord.Host(name: "h1", libvirt: lab.uri)])
        #expect(abs(r.updatedAt!.timeIntervalSinceNow) < 600)
        #expect(!FileManager.default.fileExists(atPath: state.legacySourceFile.path))

        let target = try LabTarget.resolve("kr", store: lab.store, connect: nil, environment: lab.environment)
        #expect(target.file == r.topologyPath)
        #expect(target.hosts.map(\.libvirt) == [lab.uri])

        // The topology file moved away: the recorded hosts are where the lab is; --connect wins.
        let moved = lab.dir.appendingPathComponent("moved.yaml")
        try FileManager.default.moveItem(atPath: lab.topologyPath, toPath: moved.path)
        let gone = try LabTarget.resolve("kr", store: lab.store, connect: nil, environment: lab.environment)
        #expect(gone.file == nil && gone.hosts.map { "\($0.name) \($0.libvirt)" } == ["h1 \(lab.uri)"])
        let told = try LabTarget.resolve("kr", store: lab.store, connect: "test:///x", environment: lab.environment)
        #expect(told.hosts.map(\.libvirt) == ["test:///x"])
        try FileManager.default.moveItem(atPath: moved.path, toPath: lab.topologyPath)

        // A folder as an older nestlab left it.
        try FileManager.default.removeItem(at: state.recordFile)
        try Data((lab.topologyPath + "\n").utf8).write(to: state.legacySourceFile)
        let old = try LabTarget.resolve("kr", store: lab.store, connect: nil, environment: lab.environment)
        #expect(old.file == lab.topologyPath)

        // A record this nestlab cannot read stops the command with the record's error.
        try Data(#"{"version": 9}"#.utf8).write(to: state.recordFile)
        #expect(throws: LabRecordError.newerVersion(file: state.recordFile.path, version: 9, supported: 1)) {
            try LabTarget.resolve("kr", store: lab.store, connect: nil, environment: lab.environment)
        }
    }
}
