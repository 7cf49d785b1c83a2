import Foundation
import NestlabTestSupport
import Spawn
import Testing

@testable import NestlabCore

/// A Python HTTP server on 127.0.0.1 that serves a directory (or stalls every request),
/// stopping by itself after two minutes at most.
final class LocalHTTPServer {
    let process: SpawnedProcess
    let port: Int

    init(directory: String, stall: Bool = false) throws {
        let script = """
            import http.server, os, signal, sys, threading, time
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.chdir(sys.argv[2])
            class Stall(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    time.sleep(60)
            class Quiet(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *args):
                    pass
            handler = Stall if sys.argv[1] == "stall" else Quiet
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            threading.Timer(120, server.shutdown).start()
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        process = try SpawnedProcess.start(
            ["/usr/bin/python3", "-c", script, stall ? "stall" : "serve", directory],
            stdout: .pipe, stderr: .null)
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = process.standardOutput!.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let text = String(decoding: buffer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else {
            process.signal(SIGKILL)
            process.wait()
            throw TOMLParseFailure(message: "server did not report a port: \(text)")
        }
        self.port = port
    }

    /// Stops the server now (SIGKILL: it holds no state worth a clean shutdown).
    func stop() {
        process.signal(SIGKILL)
        process.wait()
    }

    deinit { stop() }
}

/// A sandbox for running lib.sh functions: its own etc/state/cache/log and console file.
struct ScriptSandbox {
    let root: URL
    var etc: URL { root.appendingPathComponent("etc") }
    var state: URL { root.appendingPathComponent("state") }
    var console: URL { root.appendingPathComponent("console") }

    init(env: EnvFile = EnvFile()) throws {
        root = try makeScratchDirectory()
        try FileManager.default.createDirectory(
            at: etc.appendingPathComponent("artifacts"), withIntermediateDirectories: true)
        try Data(env.render().utf8).write(to: etc.appendingPathComponent("node.env"))
        _ = FileManager.default.createFile(atPath: console.path, contents: nil)
    }

    var environment: [String: String] {
        [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NESTLAB_ETC": etc.path, "NESTLAB_ENV": etc.appendingPathComponent("node.env").path,
            "NESTLAB_STATE": state.path, "NESTLAB_CACHE": root.appendingPathComponent("cache").path,
            "NESTLAB_LOG_DIR": root.appendingPathComponent("log").path, "NESTLAB_CONSOLE": console.path,
            "NESTLAB_ALLOW_NON_ROOT": "1", "NESTLAB_DOWNLOAD_RETRIES": "0",
        ]
    }

    /// Runs `body` after sourcing lib.sh in strict mode, as the scripts do.
    func bash(_ body: String, extra: [String: String] = [:]) throws -> ProcessResult {
        let lib = scriptsDirectory().appendingPathComponent("lib.sh").path
        let script = "set -Eeuo pipefail\nsource \(EnvFile.quote(lib))\nnl_init t\n" + body + "\n"
        return try runProcess(["/bin/bash", "-c", script, "t"], environment: environment.merging(extra) { $1 })
    }

    func phaseLines(_ output: String) -> [PhaseLine] {
        output.split(separator: "\n").compactMap { PhaseLine.parse($0) }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite("node scripts", .serialized)
struct ScriptsTests {
    @Test(arguments: NodeScripts.all)
    func passesShellcheck(_ name: String) throws {
        // -x follows `source lib.sh`; no check is disabled anywhere.
        let result = try runProcess(
            ["/usr/bin/shellcheck", "-x", "--severity=style", name],
            currentDirectory: scriptsDirectory().path)
        #expect(result.status == 0, "\(name):\n\(result.stdout)\(result.stderr)")
        let text = try String(contentsOf: scriptsDirectory().appendingPathComponent(name), encoding: .utf8)
        #expect(!text.contains("shellcheck disable"))
        if name != "lib.sh" {
            #expect(text.hasPrefix("#!/usr/bin/env bash\n"))
            #expect(text.contains("\nset -Eeuo pipefail\n"))
        }
    }

    @Test func phaseLinesReachStdoutAndConsole() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let detail = "détails: 100% & more/ok"
        let result = try box.bash("nl_phase download \(EnvFile.quote("first try"))\nnl_ok \(EnvFile.quote(detail))")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = box.phaseLines(result.stdout)
        #expect(
            lines == [
                PhaseLine(phase: "download", status: .start, detail: "first try"),
                PhaseLine(phase: "download", status: .ok, detail: detail),
            ])
        #expect(result.stdout.split(separator: "\n").first == "NESTLAB phase=download status=start detail=first%20try")
        let console = try String(contentsOf: box.console, encoding: .utf8)
        #expect(console == result.stdout)
        // Every line ends up in the state log too, with a timestamp.
        let log = try String(contentsOf: box.state.appendingPathComponent("phases.log"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 2 && log.contains("status=ok"))
    }

    @Test func failuresNameThePhaseAndTheCause() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let explicit = try box.bash("nl_phase sysctl\nnl_fail 'sysctl failed: no such key'\necho unreachable")
        #expect(explicit.status == 1)
        #expect(
            box.phaseLines(explicit.stdout).last
                == PhaseLine(phase: "sysctl", status: .failed, detail: "sysctl failed: no such key"))
        #expect(!explicit.stdout.contains("unreachable"))

        let trapped = try box.bash("nl_phase swap\nfalse\necho unreachable")
        #expect(trapped.status == 1)
        let last = try #require(box.phaseLines(trapped.stdout).last)
        #expect(last.phase == "swap" && last.status == .failed)
        #expect(last.detail == "command 'false' exited 1 (t.sh line 5)")
    }

    @Test func fetchVerifiesAndInstallsEveryArtifactKind() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let served = box.root.appendingPathComponent("served")
        try FileManager.default.createDirectory(
            at: served.appendingPathComponent("tree/bin"), withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho kubeadm\n".utf8).write(to: served.appendingPathComponent("kubeadm"))
        try Data("crictl binary\n".utf8).write(to: served.appendingPathComponent("tree/bin/crictl"))
        try Data("bridge plugin\n".utf8).write(to: served.appendingPathComponent("tree/bridge"))
        let tar = try runProcess(
            ["/bin/tar", "-czf", "../tools.tar.gz", "./bin/crictl", "./bridge"],
            currentDirectory: served.appendingPathComponent("tree").path)
        #expect(tar.status == 0)
        func sha(_ name: String) throws -> String {
            String(try runProcess(["/usr/bin/sha256sum", served.appendingPathComponent(name).path]).stdout.prefix(64))
        }
        let server = try LocalHTTPServer(directory: served.path)
        let base = "http://127.0.0.1:\(server.port)"
        let out = box.root.appendingPathComponent("out").path
        let list =
            [
                ["\(base)/kubeadm", try sha("kubeadm"), "file", "\(out)/usr/bin/kubeadm", "-", "755"],
                [
                    "\(base)/tools.tar.gz", try sha("tools.tar.gz"), "member", "\(out)/usr/bin/crictl", "./bin/crictl",
                    "755",
                ],
                ["\(base)/tools.tar.gz", try sha("tools.tar.gz"), "extract", "\(out)/opt/cni/bin", "0", "-"],
            ].map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n"
        try Data(("# header\n" + list).utf8).write(to: box.etc.appendingPathComponent("artifacts/kubernetes.tsv"))

        let result = try box.bash("nl_phase kubernetes-binaries\nnl_install_artifacts kubernetes\nnl_ok")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let kubeadm = "\(out)/usr/bin/kubeadm"
        #expect(FileManager.default.isExecutableFile(atPath: kubeadm))
        #expect(try String(contentsOfFile: kubeadm, encoding: .utf8) == "#!/bin/sh\necho kubeadm\n")
        #expect(try String(contentsOfFile: "\(out)/usr/bin/crictl", encoding: .utf8) == "crictl binary\n")
        #expect(try String(contentsOfFile: "\(out)/opt/cni/bin/bridge", encoding: .utf8) == "bridge plugin\n")
        let installed = try String(contentsOf: box.state.appendingPathComponent("installed.list"), encoding: .utf8)
        #expect(
            installed.split(separator: "\n").map(String.init)
                == [kubeadm, "\(out)/usr/bin/crictl", "\(out)/opt/cni/bin/bin/crictl", "\(out)/opt/cni/bin/bridge"])

        // A second run finds everything cached and verified: no download needed (server gone).
        let port = server.port
        server.stop()
        let again = try box.bash("nl_install_artifacts kubernetes")
        #expect(again.status == 0, "re-run with port \(port) closed: \(again.stdout)")

        // With the server gone, an artifact that is not cached yet fails with the host named.
        let missing = "\(base)/other\t\(String(repeating: "0", count: 64))\tfile\t\(out)/other\t-\t755\n"
        try Data(missing.utf8).write(to: box.etc.appendingPathComponent("artifacts/other.tsv"))
        let refused = try box.bash("nl_phase kubernetes-binaries\nnl_install_artifacts other")
        #expect(refused.status == 1)
        let last = try #require(box.phaseLines(refused.stdout).last)
        #expect(last.status == .failed)
        #expect(last.detail.hasPrefix("cannot reach 127.0.0.1:\(port): cannot connect (curl exit 7"))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/other"))
    }

    @Test func wrongDigestIsAClearFailure() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let served = box.root.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        try Data("payload".utf8).write(to: served.appendingPathComponent("kubelet"))
        let server = try LocalHTTPServer(directory: served.path)
        let url = "http://127.0.0.1:\(server.port)/kubelet"
        let zeros = String(repeating: "0", count: 64)
        let result = try box.bash("nl_phase kubernetes-binaries\nnl_fetch \(url) \(box.root.path)/kubelet \(zeros)")
        #expect(result.status == 1)
        let actual = "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"  // sha256("payload")
        #expect(
            box.phaseLines(result.stdout).last
                == PhaseLine(
                    phase: "kubernetes-binaries", status: .failed,
                    detail: "sha256 mismatch for \(url): expected \(zeros), got \(actual)"))
        #expect(!FileManager.default.fileExists(atPath: "\(box.root.path)/kubelet"))
        #expect(!FileManager.default.fileExists(atPath: "\(box.root.path)/kubelet.part"))
    }

    @Test func unreachableHostFailsFastWithTheHostNamed() throws {
        // What a lab VM without internet shows: the first Kubernetes download fails, clearly.
        let box = try ScriptSandbox()
        defer { box.remove() }
        let url = "https://dl.k8s.io.invalid/release/v1.33.1/bin/linux/amd64/kubeadm"
        let start = Date()
        let result = try box.bash(
            "nl_phase kubernetes-binaries\nnl_fetch \(url) \(box.root.path)/kubeadm \(KubeSample.sha)")
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(start) < 120)  // catches a hang, not a slow machine
        let last = try #require(box.phaseLines(result.stdout).last)
        #expect(last.phase == "kubernetes-binaries" && last.status == .failed)
        #expect(last.detail.hasPrefix("cannot reach dl.k8s.io.invalid: cannot resolve host (curl exit 6"))
        #expect(last.detail.hasSuffix("while downloading \(url)"))
    }

    @Test func stalledServerHitsTheTimeout() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let server = try LocalHTTPServer(directory: box.root.path, stall: true)
        let start = Date()
        let result = try box.bash(
            "nl_phase kubernetes-binaries\nnl_fetch http://127.0.0.1:\(server.port)/kubeadm \(box.root.path)/k \(KubeSample.sha)",
            extra: ["NESTLAB_DOWNLOAD_TIMEOUT": "2"])
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(start) < 120)  // curl exit 28 below proves the 2 s timeout
        let last = try #require(box.phaseLines(result.stdout).last)
        #expect(last.detail.hasPrefix("cannot reach 127.0.0.1:\(server.port): timed out (curl exit 28"))
    }

    @Test func tomlSetEditsOnlyTheNamedKey() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let config = box.root.appendingPathComponent("configuration-qemu.toml")
        try Data(
            """
            [hypervisor.qemu]
            default_vcpus = 1
            default_memory = 2048
            # enable_hugepages = true
            shared_fs = "virtio-fs"
            virtio_fs_cache_size = 0
            virtio_fs_cache = "auto"

            [runtime]
            enable_debug = false

            """.utf8
        ).write(to: config)
        let knobs = try NodeBootstrapRenderer.render(
            cluster: KubeSample.cluster(runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu)),
            node: KubeSample.worker
        )
        .file(at: "/etc/nestlab/kata/qemu.knobs")
        let lines = try #require(knobs).text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        var body = ""
        for line in lines {
            let key = line.split(separator: " ").first.map(String.init) ?? ""
            body += "nl_toml_set \(EnvFile.quote(config.path)) \(key) \(EnvFile.quote(String(line)))\n"
        }
        let result = try box.bash(
            body + "if nl_toml_set \(EnvFile.quote(config.path)) no_such_key 'no_such_key = 1'; then exit 9; fi")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            try String(contentsOf: config, encoding: .utf8) == """
                [hypervisor.qemu]
                default_vcpus = 2
                default_memory = 4096
                enable_hugepages = true
                shared_fs = "virtio-fs"
                virtio_fs_cache_size = 0
                virtio_fs_cache = "never"

                [runtime]
                enable_debug = false

                """)
        // The result is still valid TOML with the values typed as Kata reads them.
        let parsed = try parseTOML(config.path)
        let qemu = try #require(lookup(parsed, ["hypervisor", "qemu"]) as? [String: Any])
        #expect(qemu["default_vcpus"] as? Int == 2)
        #expect(qemu["enable_hugepages"] as? Bool == true)
    }

    @Test func kataInstallsTheTarballAndTunesEachHypervisor() throws {
        // A stand-in kata-static tarball with the layout of the real one (./opt/kata/...),
        // served over HTTP and unpacked by kata.sh exactly as on a node.
        let cluster = KubeSample.cluster(runtimes: KubeSample.allRuntimes, containerd: .distro(.ubuntu))
        let boot = try NodeBootstrapRenderer.render(cluster: cluster, node: KubeSample.worker)
        var env = EnvFile()
        try env.set("NESTLAB_KATA_VERSION", "3.20.0")
        try env.set("NESTLAB_KATA_HYPERVISORS", "qemu fc")
        let box = try ScriptSandbox(env: env)
        defer { box.remove() }
        let tree = box.root.appendingPathComponent("tree")
        let defaults = tree.appendingPathComponent("opt/kata/share/defaults/kata-containers")
        try FileManager.default.createDirectory(at: defaults, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: tree.appendingPathComponent("opt/kata/bin"), withIntermediateDirectories: true)
        let shim = tree.appendingPathComponent("opt/kata/bin/containerd-shim-kata-v2")
        try Data("#!/bin/sh\n".utf8).write(to: shim)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: shim.path)
        try Data(
            "[hypervisor.qemu]\ndefault_vcpus = 1\ndefault_memory = 2048\n#enable_hugepages = true\nshared_fs = \"virtio-fs\"\nvirtio_fs_cache = \"auto\"\n"
                .utf8
        )
        .write(to: defaults.appendingPathComponent("configuration-qemu.toml"))
        try Data("[hypervisor.firecracker]\ndefault_vcpus = 1\ndefault_memory = 2048\n# enable_hugepages = true\n".utf8)
            .write(to: defaults.appendingPathComponent("configuration-fc.toml"))
        let served = box.root.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        let tarball = served.appendingPathComponent("kata-static-3.20.0-amd64.tar.xz")
        #expect(try runProcess(["/bin/tar", "-cJf", tarball.path, "./opt"], currentDirectory: tree.path).status == 0)
        let sha = String(try runProcess(["/usr/bin/sha256sum", tarball.path]).stdout.prefix(64))
        let server = try LocalHTTPServer(directory: served.path)
        let install = box.root.appendingPathComponent("node")
        try Data(
            "\(["http://127.0.0.1:\(server.port)/\(tarball.lastPathComponent)", sha, "extract", install.path, "0", "-"].joined(separator: "\t"))\n"
                .utf8
        )
        .write(to: box.etc.appendingPathComponent("artifacts/kata.tsv"))
        try FileManager.default.createDirectory(
            at: box.etc.appendingPathComponent("kata"), withIntermediateDirectories: true)
        for hypervisor in ["qemu", "fc"] {
            let knobs = try #require(boot.file(at: "/etc/nestlab/kata/\(hypervisor).knobs"))
            try Data(knobs.content).write(to: box.etc.appendingPathComponent("kata/\(hypervisor).knobs"))
        }
        let tuned = box.root.appendingPathComponent("tuned")
        var environment = box.environment
        environment["NESTLAB_KATA_ROOT"] = install.appendingPathComponent("opt/kata").path
        environment["NESTLAB_KATA_TUNED"] = tuned.path
        let result = try runProcess(
            [scriptsDirectory().appendingPathComponent("kata.sh").path], environment: environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            box.phaseLines(result.stdout).map(\.phase) == [
                "kata-install", "kata-install", "kata-config", "kata-config", "kata",
            ])
        #expect(
            try String(contentsOf: tuned.appendingPathComponent("configuration-qemu.toml"), encoding: .utf8)
                == "[hypervisor.qemu]\ndefault_vcpus = 2\ndefault_memory = 4096\nenable_hugepages = true\nshared_fs = \"virtio-fs\"\nvirtio_fs_cache = \"never\"\n"
        )
        #expect(
            try String(contentsOf: tuned.appendingPathComponent("configuration-fc.toml"), encoding: .utf8)
                == "[hypervisor.firecracker]\ndefault_vcpus = 2\ndefault_memory = 4096\nenable_hugepages = true\n")
        // The shipped files stay untouched, and what was unpacked is on record for node-reset.
        #expect(
            try String(
                contentsOf: install.appendingPathComponent(
                    "opt/kata/share/defaults/kata-containers/configuration-fc.toml"),
                encoding: .utf8
            ).contains("default_vcpus = 1\n"))
        let installed = try String(contentsOf: box.state.appendingPathComponent("installed.list"), encoding: .utf8)
        #expect(installed.contains("\(install.path)/opt/kata/bin/containerd-shim-kata-v2\n"))

        // A knob the shipped config does not have is a clear failure, not a silent skip.
        try Data("no_such_knob = 1\n".utf8).write(to: box.etc.appendingPathComponent("kata/fc.knobs"))
        let missing = try runProcess(
            [scriptsDirectory().appendingPathComponent("kata.sh").path], environment: environment)
        #expect(missing.status == 1)
        #expect(
            box.phaseLines(missing.stdout).last?.detail.hasSuffix("configuration-fc.toml has no 'no_such_knob' to set")
                == true)
    }

    @Test func devmapperPoolAttachesLoopDevicesAndCleansUp() throws {
        // Real loop devices; the thin pool itself only where the kernel has device-mapper
        // (this build machine has none, so there the create must fail with dmsetup's reason).
        let pool = "nestlab-test-\(UInt32.random(in: 0...UInt32.max))"
        var env = EnvFile()
        try env.set("NESTLAB_DM_POOL", pool)
        try env.set("NESTLAB_DM_DATA_SIZE", "64M")
        try env.set("NESTLAB_DM_META_SIZE", "16M")
        let box = try ScriptSandbox(env: env)
        defer { box.remove() }
        let dir = box.root.appendingPathComponent("pool")
        let environment = box.environment
        try Data((env.render() + "NESTLAB_DM_DIR=\(EnvFile.quote(dir.path))\n").utf8).write(
            to: box.etc.appendingPathComponent("node.env"))
        let script = scriptsDirectory().appendingPathComponent("devmapper-pool.sh").path
        let hasDeviceMapper = try runProcess(["/usr/sbin/dmsetup", "version"]).status == 0
        let create = try runProcess([script, "create"], environment: environment)
        let data = dir.appendingPathComponent("data").path
        if hasDeviceMapper {
            #expect(create.status == 0, "\(create.stdout)\(create.stderr)")
            #expect(try runProcess(["/usr/sbin/dmsetup", "status", pool]).stdout.contains("thin-pool"))
            // Idempotent: a second create finds the pool and changes nothing.
            #expect(try runProcess([script, "create"], environment: environment).status == 0)
        } else {
            #expect(create.status == 1)
            let last = try #require(box.phaseLines(create.stdout).last)
            #expect(last.phase == "devmapper-pool" && last.status == .failed)
            #expect(last.detail.hasPrefix("dmsetup create \(pool) failed: "))
            // The sparse files and their loop devices are there for the next attempt.
            #expect(try runProcess(["/usr/sbin/losetup", "-j", data]).stdout.contains(data))
            let size = try FileManager.default.attributesOfItem(atPath: data)[.size] as? Int
            #expect(size == 64 * 1024 * 1024)
        }
        let remove = try runProcess([script, "remove"], environment: environment)
        #expect(remove.status == 0, "\(remove.stdout)\(remove.stderr)")
        #expect(try runProcess(["/usr/sbin/losetup", "-j", data]).stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.path))
    }

    @Test func flannelNetworkFollowsThePodSubnet() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        let manifest = box.root.appendingPathComponent("kube-flannel.yml")
        // The net-conf.json fragment as flannel's release manifest carries it.
        try Data(
            """
            data:
              net-conf.json: |
                {
                  "Network": "10.244.0.0/16",
                  "EnableNFTables": false,
                  "Backend": {
                    "Type": "vxlan"
                  }
                }

            """.utf8
        ).write(to: manifest)
        let out = box.root.appendingPathComponent("patched.yml")
        let ok = try box.bash(
            "nl_flannel_network \(EnvFile.quote(manifest.path)) \(EnvFile.quote(out.path)) 10.50.0.0/16")
        #expect(ok.status == 0, "\(ok.stderr)")
        let patched = try String(contentsOf: out, encoding: .utf8)
        #expect(patched.contains("\"Network\": \"10.50.0.0/16\",\n") && !patched.contains("10.244."))
        try Data("data: {}\n".utf8).write(to: manifest)
        let none = try box.bash(
            "if nl_flannel_network \(EnvFile.quote(manifest.path)) \(EnvFile.quote(out.path)) 10.50.0.0/16; then exit 9; fi"
        )
        #expect(none.status == 0)
    }

    @Test func uruncInstallsBinariesAndMonitors() throws {
        var env = EnvFile()
        try env.set("NESTLAB_URUNC_VERSION", "0.6.0")
        try env.set("NESTLAB_URUNC_MONITORS", "firecracker solo5-spt")
        try env.set("NESTLAB_URUNC_QEMU", "0")
        let box = try ScriptSandbox(env: env)
        defer { box.remove() }
        let served = box.root.appendingPathComponent("served")
        let release = served.appendingPathComponent("release-v1.7.0-x86_64")
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        for (name, body) in [
            ("urunc_static_amd64", "urunc"), ("containerd-shim-urunc-v2_static_amd64", "shim"), ("solo5-spt", "spt"),
            ("release-v1.7.0-x86_64/firecracker-v1.7.0-x86_64", "fc"),
        ] {
            try Data("#!/bin/sh\necho \(body)\n".utf8).write(to: served.appendingPathComponent(name))
        }
        #expect(
            try runProcess(
                ["/bin/tar", "-czf", "firecracker-v1.7.0-x86_64.tgz", "release-v1.7.0-x86_64"],
                currentDirectory: served.path
            ).status == 0)
        func sha(_ name: String) throws -> String {
            String(try runProcess(["/usr/bin/sha256sum", served.appendingPathComponent(name).path]).stdout.prefix(64))
        }
        let server = try LocalHTTPServer(directory: served.path)
        let base = "http://127.0.0.1:\(server.port)"
        let bin = box.root.appendingPathComponent("bin").path
        // The list nestlab renders, with the destinations moved into the sandbox.
        var runtimes = RuntimeSet()
        runtimes.urunc = UruncSpec(
            version: "0.6.0",
            urunc: Artifact(url: "\(base)/urunc_static_amd64", sha256: try sha("urunc_static_amd64")),
            shim: Artifact(
                url: "\(base)/containerd-shim-urunc-v2_static_amd64",
                sha256: try sha("containerd-shim-urunc-v2_static_amd64")),
            monitors: [
                .firecracker(
                    Artifact(
                        url: "\(base)/firecracker-v1.7.0-x86_64.tgz", sha256: try sha("firecracker-v1.7.0-x86_64.tgz")),
                    member: "release-v1.7.0-x86_64/firecracker-v1.7.0-x86_64"),
                .solo5SPT(Artifact(url: "\(base)/solo5-spt", sha256: try sha("solo5-spt"))),
            ])
        let boot = try NodeBootstrapRenderer.render(
            cluster: KubeSample.cluster(runtimes: runtimes, containerd: .distro(.ubuntu)),
            node: KubeSample.worker)
        let list = try #require(boot.file(at: "/etc/nestlab/artifacts/urunc.tsv")).text
            .replacingOccurrences(of: "/usr/local/bin", with: bin)
        try Data(list.utf8).write(to: box.etc.appendingPathComponent("artifacts/urunc.tsv"))
        var environment = box.environment
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "")
        let result = try runProcess(
            [scriptsDirectory().appendingPathComponent("urunc.sh").path], environment: environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(box.phaseLines(result.stdout).last == PhaseLine(phase: "urunc", status: .ok))
        for (name, body) in [
            ("urunc", "urunc"), ("containerd-shim-urunc-v2", "shim"), ("firecracker", "fc"), ("solo5-spt", "spt"),
        ] {
            let path = "\(bin)/\(name)"
            #expect(FileManager.default.isExecutableFile(atPath: path), "\(name)")
            #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "#!/bin/sh\necho \(body)\n")
        }
    }

    @Test func joinGivesUpAfterBoundedRetries() throws {
        var env = EnvFile()
        try env.set("NESTLAB_ENDPOINT", "127.0.0.1:9")
        try env.set("NESTLAB_JOIN_ATTEMPTS", "2")
        try env.set("NESTLAB_JOIN_MAX_DELAY", "1")
        let box = try ScriptSandbox(env: env)
        defer { box.remove() }
        let result = try runProcess(
            [scriptsDirectory().appendingPathComponent("join.sh").path], environment: box.environment)
        #expect(result.status == 1)
        let lines = box.phaseLines(result.stdout)
        #expect(lines.first == PhaseLine(phase: "kubeadm-join", status: .start, detail: "127.0.0.1:9"))
        #expect(
            lines.last
                == PhaseLine(
                    phase: "kubeadm-join", status: .failed,
                    detail: "gave up after 2 attempts: control plane 127.0.0.1:9 not ready (readyz HTTP 000)"))
        #expect(result.stderr.contains("attempt 1/2"))
        #expect(!result.stderr.contains("attempt 2/2"))
    }

    @Test func bootstrapStopsAtTheFirstFailure() throws {
        var env = EnvFile()
        try env.set("NESTLAB_ENDPOINT", "127.0.0.1:9")
        try env.set("NESTLAB_JOIN_ATTEMPTS", "1")
        let box = try ScriptSandbox(env: env)
        defer { box.remove() }
        let bootstrap = scriptsDirectory().appendingPathComponent("bootstrap.sh").path
        let result = try runProcess([bootstrap, "join.sh", "node-prep.sh"], environment: box.environment)
        #expect(result.status == 1)
        let lines = box.phaseLines(result.stdout)
        #expect(lines.first == PhaseLine(phase: "bootstrap", status: .start, detail: "join.sh node-prep.sh"))
        #expect(lines.last == PhaseLine(phase: "bootstrap", status: .failed, detail: "join.sh failed"))
        #expect(!lines.contains { $0.phase == "kernel-modules" }, "node-prep.sh must not run after join.sh failed")
        #expect(
            lines.contains(
                PhaseLine(
                    phase: "kubeadm-join", status: .failed,
                    detail: "gave up after 1 attempts: control plane 127.0.0.1:9 not ready (readyz HTTP 000)")))

        let unknown = try runProcess([bootstrap, "../../etc/passwd"], environment: box.environment)
        #expect(unknown.status == 1)
        #expect(box.phaseLines(unknown.stdout).last?.detail.hasPrefix("no node script '../../etc/passwd'") == true)
    }

    @Test func missingParameterFileIsReported() throws {
        let box = try ScriptSandbox()
        defer { box.remove() }
        var environment = box.environment
        environment["NESTLAB_ENV"] = box.root.appendingPathComponent("nope.env").path
        let result = try runProcess(
            [scriptsDirectory().appendingPathComponent("node-prep.sh").path], environment: environment)
        #expect(result.status == 1)
        #expect(
            box.phaseLines(result.stdout) == [
                PhaseLine(
                    phase: "node-prep", status: .failed,
                    detail: "missing parameter file \(environment["NESTLAB_ENV"]!)")
            ])
    }
}
