import Foundation
import Libvirt
import NestlabCore
import NestlabKit
import Spawn
import Testing

@Suite("one run per lab")
struct LockTests {
    @Test("a second lock on the lab is refused with who holds it; once released, it is free again")
    func inProcess() throws {
        let lab = try KitLab()
        let state = lab.store.lab("kt")
        do {
            let held = try LabLock(state, command: "up lab.yaml")
            let error = #expect(throws: StateError.self) { try LabLock(state, command: "down kt") }
            let text = error.map { "\($0)" } ?? ""
            #expect(
                text.hasPrefix(
                    "lab 'kt' is busy: another nestlab run holds its lock (pid \(getpid()), `nestlab up lab.yaml`, since "
                ))
            #expect(text.hasSuffix("); wait for it to finish, or stop it"))
            withExtendedLifetime(held) {}
        }
        // Released when the holder goes away.
        let again = try LabLock(state, command: "down kt")
        withExtendedLifetime(again) {}
    }

    @Test("another nestlab process is refused while this one holds the lock: exit 1 and the holder in the message")
    func acrossProcesses() async throws {
        let lab = try KitLab()
        let state = lab.store.lab("kt")
        let nestlab = try NestlabBinary.path()
        do {
            let held = try LabLock(state, command: "test holder")
            let r = try NestlabBinary.run(
                nestlab, ["up", lab.topologyPath, "--no-wait", "--skip-preflight", "--plain"],
                environment: lab.environment)
            #expect(r.status == 1)
            #expect(
                r.stderr.hasPrefix(
                    "error: lab 'kt' is busy: another nestlab run holds its lock (pid \(getpid()), `nestlab test holder`, since "
                ))
            #expect(r.stdout.isEmpty)
            // The refused process left the holder's note alone.
            let note = try String(contentsOf: state.lockFile, encoding: .utf8)
            #expect(note.hasPrefix("pid \(getpid()), `nestlab test holder`"))
            // down is refused the same way.
            let d = try NestlabBinary.run(nestlab, ["down", "kt", "--connect", lab.uri], environment: lab.environment)
            #expect(d.status == 1)
            #expect(d.stderr.contains("lab 'kt' is busy"))
            withExtendedLifetime(held) {}
        }
        // Released: the binary runs the whole up against its own (fresh) test-driver host.
        let r = try NestlabBinary.run(
            nestlab, ["up", lab.topologyPath, "--no-wait", "--skip-preflight", "--plain"],
            environment: lab.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("vm-0 [h1] create 10.77.0.10"))
        #expect(r.stdout.contains("lab kt is up"))
    }
}

/// The `nestlab` executable SwiftPM built next to this test bundle.
enum NestlabBinary {
    struct NotBuilt: Error, CustomStringConvertible {
        var tried: [String]
        var description: String {
            "no nestlab binary (tried \(tried.joined(separator: ", "))); run `swift build` first"
        }
    }

    static func path(filePath: String = #filePath) throws -> String {
        var candidates: [String] = []
        // The test runner lives in the build folder (.build/<triple>/debug/nestlabPackageTests.xctest).
        if let runner = CommandLine.arguments.first {
            var dir = URL(fileURLWithPath: runner).deletingLastPathComponent()
            if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
            candidates.append(dir.appendingPathComponent("nestlab").path)
        }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/nestlab").path)
        if let p = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return p }
        throw NotBuilt(tried: candidates)
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ binary: String, _ args: [String], environment: [String: String], cwd: String? = nil) throws
        -> Result
    {
        let r = try SpawnedProcess.run([binary] + args, environment: environment, directory: cwd)
        return Result(status: r.status, stdout: r.output, stderr: r.errors)
    }
}
