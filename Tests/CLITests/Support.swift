import Foundation
import Spawn

/// Runs the `nestlab` executable SwiftPM built, in a throwaway folder with its own
/// state and cache, and captures what it prints.
final class CLI: @unchecked Sendable {
    // Set in init, read-only afterwards.
    let dir: URL
    let binary: String

    init() throws {
        binary = try Self.binaryPath()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try Data("qcow2 stand-in\n".utf8).write(to: dir.appendingPathComponent("img/disk.qcow2"))
        try Data("kernel stand-in\n".utf8).write(to: dir.appendingPathComponent("img/vmlinuz"))
        try Data("initrd stand-in\n".utf8).write(to: dir.appendingPathComponent("img/initrd.img"))
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    var stateRoot: URL { dir.appendingPathComponent("state") }

    var environment: [String: String] {
        [
            "HOME": dir.path, "XDG_CACHE_HOME": dir.appendingPathComponent("cache").path,
            "NESTLAB_STATE_DIR": stateRoot.path, "PATH": "/usr/bin:/bin", "TERM": "dumb",
        ]
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `nestlab ARGS` with the folder as working directory.
    func run(_ args: String...) throws -> Result { try run(args) }

    func run(_ args: [String]) throws -> Result {
        let r = try SpawnedProcess.run([binary] + args, environment: environment, directory: dir.path)
        return Result(status: r.status, stdout: r.output, stderr: r.errors)
    }

    /// Writes a file into the folder; answers its name (relative, as diagnostics show it).
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        return name
    }

    /// A valid two-machine topology on `uri`.
    func goodTopology(name: String = "cli", uri: String = "qemu:///system") -> String {
        """
        name: \(name)
        hosts:
          - name: h1
            libvirt: \(uri)
            storageDir: \(dir.path)/storage
            accel: tcg
            cpus: "1-3"
            reservedCPUs: "0"
        images:
          deb:
            file: \(dir.path)/img/disk.qcow2
            kernel: \(dir.path)/img/vmlinuz
            initrd: \(dir.path)/img/initrd.img
        networks:
          lab: {mode: nat, cidr: 10.77.0.0/24}
        profiles:
          pinned:
            extends: paper-default
            cpu: {pinning: auto, emulatorPin: auto}
            memory: {hugepages: 2M}
        machines:
          - name: vm
            count: 2
            host: h1
            image: deb
            profile: pinned
            vcpus: 1
            memory: 512MiB
            disk: 2GiB
            network: {lab: 10.77.0.10}

        """
    }

    /// The built executable: next to the test runner, or in the package's .build/debug.
    static func binaryPath(filePath: String = #filePath) throws -> String {
        var candidates: [String] = []
        if let runner = CommandLine.arguments.first {
            var d = URL(fileURLWithPath: runner).deletingLastPathComponent()
            if d.lastPathComponent.hasSuffix(".xctest") { d = d.deletingLastPathComponent() }
            candidates.append(d.appendingPathComponent("nestlab").path)
        }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/nestlab").path)
        if let p = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return p }
        throw NotBuilt(tried: candidates)
    }

    struct NotBuilt: Error, CustomStringConvertible {
        var tried: [String]
        var description: String {
            "no nestlab binary (tried \(tried.joined(separator: ", "))); run `swift build` first"
        }
    }
}

/// Runs a tool; answers its stdout, or throws with its stderr.
@discardableResult
func tool(_ path: String, _ args: [String]) throws -> String {
    let r = try SpawnedProcess.run([path] + args)
    struct Failed: Error, CustomStringConvertible { var description: String }
    guard r.status == 0 else { throw Failed(description: "\(path) exited \(r.status): \(r.errors)") }
    return r.output
}
