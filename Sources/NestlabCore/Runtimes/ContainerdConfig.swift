// containerd's CRI configuration, for config version 2 (containerd 1.6/1.7) and
// version 3 (containerd 2.x).
//
// Formats checked against:
// - containerd docs/cri/config.md (release/1.7): `plugins."io.containerd.grpc.v1.cri"`,
//   `containerd.runtimes.<handler>` with runtime_type, runtime_path, pod_annotations,
//   container_annotations, privileged_without_host_devices, snapshotter (1.7+), options.
// - containerd 2.x `containerd config default` output: `plugins.'io.containerd.cri.v1.runtime'`
//   and `plugins.'io.containerd.cri.v1.images'.pinned_images.sandbox`; CNI `bin_dirs`
//   from 2.1 (`bin_dir` deprecated in 2.1, removed in 2.2).
// - Kata: kata-deploy `binary/src/runtime/containerd.rs` (runtime_type
//   io.containerd.kata-<hyp>.v2, runtime_path, privileged_without_host_devices = true,
//   pod_annotations ["io.katacontainers.*"], options.ConfigPath).
// - urunc: docs/installation.md (runtime_type io.containerd.urunc.v2, annotations
//   com.urunc.unikernel.*, snapshotter devmapper; devmapper plugin pool_name,
//   root_path, base_image_size, discard_blocks, fs_type ext2).

/// The containerd config nestlab writes to /etc/containerd/config.toml.
public struct ContainerdConfig: Sendable, Hashable {
    public var version: ContainerdVersion
    public var sandboxImage: String
    /// Where containerd looks for CNI plugins. Always /opt/cni/bin: flannel's and calico's
    /// DaemonSets drop their plugin there (hostPath), and node-prep links Debian's
    /// /usr/lib/cni plugins into it, so one directory serves both install methods.
    public var cniBinDir: String
    public var handlers: [ContainerdHandler]
    public var devmapper: DevmapperPool?
    /// ext2 for urunc on containerd 2.x (rumprun reads only ext2); nil keeps containerd's
    /// default (ext4). Debian's containerd 1.6.20 refuses ext2 ("unsupported Filesystem
    /// Type"), seen with a real daemon; whether 1.7 takes it is unverified, so only 2.x gets it.
    public var devmapperFSType: String?

    public static let socket = "unix:///run/containerd/containerd.sock"
    public static let cniBinDirectory = "/opt/cni/bin"
    public static let cniConfDirectory = "/etc/cni/net.d"

    /// Builds the handler list for `runtimes` (runc first, as the default) and checks that
    /// `version` can serve them.
    public init(version: ContainerdVersion, sandboxImage: String, runtimes: RuntimeSet) throws {
        self.version = version
        self.sandboxImage = sandboxImage
        self.cniBinDir = Self.cniBinDirectory
        var handlers = [
            ContainerdHandler(
                name: "runc", runtimeType: "io.containerd.runc.v2",
                options: [("SystemdCgroup", .boolean(true))])
        ]
        if runtimes.crun {
            handlers.append(
                ContainerdHandler(
                    name: "crun", runtimeType: "io.containerd.runc.v2",
                    options: [("BinaryName", .string("/usr/bin/crun")), ("SystemdCgroup", .boolean(true))]))
        }
        if let kata = runtimes.kata {
            for hypervisor in kata.hypervisors {
                handlers.append(
                    ContainerdHandler(
                        name: hypervisor.handler,
                        runtimeType: "io.containerd.\(hypervisor.handler).v2",
                        runtimePath: KataSpec.shimPath,
                        privilegedWithoutHostDevices: true,
                        podAnnotations: ["io.katacontainers.*"],
                        // Firecracker has no shared filesystem: it needs a block snapshotter.
                        snapshotter: hypervisor == .firecracker ? "devmapper" : nil,
                        options: [("ConfigPath", .string("\(KataSpec.configDirectory)/\(hypervisor.configFile)"))]))
            }
        }
        if runtimes.urunc != nil {
            handlers.append(
                ContainerdHandler(
                    name: "urunc", runtimeType: "io.containerd.urunc.v2",
                    podAnnotations: ["com.urunc.unikernel.*"],
                    containerAnnotations: ["com.urunc.unikernel.*"],
                    snapshotter: "devmapper"))
        }
        if handlers.contains(where: { $0.snapshotter != nil }), !version.supportsRuntimeSnapshotter {
            let who = handlers.filter { $0.snapshotter != nil }.map(\.name).joined(separator: ", ")
            throw KubeError.unsupportedCombination(
                "\(who) need a per-runtime snapshotter, which containerd \(version) lacks (it came in 1.7); use an image with containerd 1.7 (Ubuntu) or a pinned containerd 2.x release"
            )
        }
        self.handlers = handlers
        self.devmapper = runtimes.devmapperPool
        self.devmapperFSType = runtimes.urunc != nil && version.major >= 2 ? "ext2" : nil
    }

    /// The CRI runtime plugin's table path for this config version.
    public var runtimePluginPath: [String] {
        version.configVersion == 3
            ? ["plugins", "io.containerd.cri.v1.runtime"] : ["plugins", "io.containerd.grpc.v1.cri"]
    }

    public var document: TOMLDocument {
        let runtime = runtimePluginPath
        var tables: [TOMLTable] = []
        if version.configVersion == 3 {
            tables.append(
                TOMLTable(
                    ["plugins", "io.containerd.cri.v1.images", "pinned_images"],
                    [("sandbox", .string(sandboxImage))]))
        } else {
            tables.append(TOMLTable(runtime, [("sandbox_image", .string(sandboxImage))]))
        }
        let binDir: (key: String, value: TOMLValue) =
            version.usesCNIBinDirs
            ? ("bin_dirs", .array([.string(cniBinDir)])) : ("bin_dir", .string(cniBinDir))
        tables.append(TOMLTable(runtime + ["cni"], [binDir, ("conf_dir", .string(Self.cniConfDirectory))]))
        tables.append(TOMLTable(runtime + ["containerd"], [("default_runtime_name", .string("runc"))]))
        for handler in handlers {
            var entries: [(key: String, value: TOMLValue)] = [("runtime_type", .string(handler.runtimeType))]
            if let path = handler.runtimePath { entries.append(("runtime_path", .string(path))) }
            if handler.privilegedWithoutHostDevices {
                entries.append(("privileged_without_host_devices", .boolean(true)))
            }
            if !handler.podAnnotations.isEmpty {
                entries.append(("pod_annotations", .array(handler.podAnnotations.map { .string($0) })))
            }
            if !handler.containerAnnotations.isEmpty {
                entries.append(("container_annotations", .array(handler.containerAnnotations.map { .string($0) })))
            }
            if let snapshotter = handler.snapshotter { entries.append(("snapshotter", .string(snapshotter))) }
            let path = runtime + ["containerd", "runtimes", handler.name]
            tables.append(TOMLTable(path, entries))
            if !handler.optionOrder.isEmpty {
                tables.append(
                    TOMLTable(
                        path + ["options"],
                        handler.optionOrder.compactMap { key in
                            handler.options[key].map { (key: key, value: $0) }
                        }))
            }
        }
        if let pool = devmapper {
            var entries: [(key: String, value: TOMLValue)] = [
                ("pool_name", .string(pool.name)),
                ("root_path", .string(pool.directory)),
                ("base_image_size", .string(pool.baseImageSize)),
                ("discard_blocks", .boolean(true)),
            ]
            if let fsType = devmapperFSType {
                entries.append(("fs_type", .string(fsType)))
            }
            tables.append(TOMLTable(["plugins", "io.containerd.snapshotter.v1.devmapper"], entries))
        }
        return TOMLDocument(
            header: ["containerd \(version).x config, rendered by nestlab; do not edit (re-rendered on up)."],
            root: [("version", .integer(version.configVersion))],
            tables: tables)
    }

    /// The file's bytes.
    public func render() -> String { TOMLWriter.render(document) }
}
