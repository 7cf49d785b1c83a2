import Yams

/// The Kubernetes objects of `nestlab bench --kubernetes`: a namespace of the run, and per
/// runtime a client pod and a server pod under that runtime's RuntimeClass. The pods only
/// wait; nestlab runs the same `bench-node.sh` in them with `kubectl exec` that machines mode
/// runs over ssh, so both modes measure with the same commands and parameters.
///
/// Each pod is Guaranteed (requests = limits, whole CPUs), so the kubelet's static CPU manager
/// gives it exclusive CPUs, as the paper's mitigated environments do. Scratch files (fio's,
/// postgres') live in an emptyDir on the node's disk, not in the container's root filesystem.
public enum BenchPods {
    /// One pod to create.
    public struct Pod: Sendable, Hashable {
        public var name: String
        /// `client` (it is measured) or `server` (iperf3, redis and postgres serve the client from it).
        public var role: String
        /// The runtime's name in the testbed (`runc`, `kata-qemu`, ...): a label.
        public var runtime: String
        /// `spec.runtimeClassName`; nil for the node's default handler (runc has no RuntimeClass).
        public var runtimeClassName: String?
        /// The node it must run on (`kubernetes.io/hostname`).
        public var node: String
        /// Whether that node is a control-plane node (its NoSchedule taint is tolerated).
        public var controlPlane: Bool
        /// A unikernel server image (urunc): it runs as it is, with its own command line.
        public var unikernel: String?

        public init(
            name: String, role: String, runtime: String, runtimeClassName: String?, node: String, controlPlane: Bool,
            unikernel: String? = nil
        ) {
            self.name = name
            self.role = role
            self.runtime = runtime
            self.runtimeClassName = runtimeClassName
            self.node = node
            self.controlPlane = controlPlane
            self.unikernel = unikernel
        }
    }

    /// What every pod of a run shares.
    public struct Settings: Sendable, Hashable {
        public var namespace: String
        /// The run's id, a label on everything, so that a leftover is found by it.
        public var runID: String
        public var image: String
        /// Whole CPUs (the static CPU manager pins only those).
        public var cpus: Int
        /// A Kubernetes quantity, e.g. `4Gi`.
        public var memory: String

        public init(namespace: String, runID: String, image: String, cpus: Int, memory: String) {
            self.namespace = namespace
            self.runID = runID
            self.image = image
            self.cpus = cpus
            self.memory = memory
        }
    }

    /// The default image: Debian with nothing installed; `bench-node.sh` installs each tool the
    /// first time it is needed (BENCH_INSTALL=apt). An image with the tools already in it
    /// (topologies/bench/Containerfile) makes runs independent of the archive's state.
    public static let defaultImage = "docker.io/library/debian:12"

    /// A pod's container: it waits until it is deleted (the benchmarks run through `kubectl exec`).
    /// SIGTERM ends it at once (its sleep too), not after the grace period: PID 1 of a container
    /// has no default action for signals.
    public static let waitForever =
        "trap 'kill $! 2>/dev/null; exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"

    /// What a pod name, a namespace or a label value may be (DNS-1123 label).
    public static let namePattern = #"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"#

    /// The run's namespace.
    public static func namespace(_ s: Settings) -> Node {
        YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str("v1")),
            ("kind", YAMLBuilder.str("Namespace")),
            (
                "metadata",
                YAMLBuilder.map([
                    ("name", YAMLBuilder.str(s.namespace)),
                    ("labels", labels(s, [])),
                ])
            ),
        ])
    }

    /// A pod of the run.
    public static func pod(_ p: Pod, _ s: Settings) -> Node {
        let spec = podSpec(p, container(p, s))
        return YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str("v1")),
            ("kind", YAMLBuilder.str("Pod")),
            (
                "metadata",
                YAMLBuilder.map([
                    ("name", YAMLBuilder.str(p.name)),
                    ("namespace", YAMLBuilder.str(s.namespace)),
                    ("labels", labels(s, [("nestlab.dev/runtime", p.runtime), ("nestlab.dev/role", p.role)])),
                ])
            ),
            ("spec", YAMLBuilder.map(spec)),
        ])
    }

    /// The pod's one container: the unikernel image, or the bench image waiting with a scratch volume.
    private static func container(_ p: Pod, _ s: Settings) -> Node {
        let resources = YAMLBuilder.map([
            ("cpu", YAMLBuilder.str(String(s.cpus))), ("memory", YAMLBuilder.str(s.memory)),
        ])
        let container: Node
        if let image = p.unikernel {
            container = YAMLBuilder.map([
                ("name", YAMLBuilder.str("bench")),
                ("image", YAMLBuilder.str(image)),
                ("imagePullPolicy", YAMLBuilder.str("IfNotPresent")),
                ("resources", YAMLBuilder.map([("requests", resources), ("limits", resources)])),
            ])
        } else {
            container = YAMLBuilder.map([
                ("name", YAMLBuilder.str("bench")),
                ("image", YAMLBuilder.str(s.image)),
                ("imagePullPolicy", YAMLBuilder.str("IfNotPresent")),
                ("command", YAMLBuilder.strs(["sh", "-c", waitForever])),
                ("resources", YAMLBuilder.map([("requests", resources), ("limits", resources)])),
                (
                    "volumeMounts",
                    YAMLBuilder.seq([
                        YAMLBuilder.map([
                            ("name", YAMLBuilder.str("scratch")), ("mountPath", YAMLBuilder.str("/var/tmp")),
                        ])
                    ])
                ),
            ])
        }
        return container
    }

    /// The pod's spec: its runtime class, its node, and the container.
    private static func podSpec(_ p: Pod, _ container: Node) -> [(String, Node)] {
        var spec: [(String, Node)] = []
        if let rc = p.runtimeClassName { spec.append(("runtimeClassName", YAMLBuilder.str(rc))) }
        spec.append(("nodeSelector", YAMLBuilder.map([("kubernetes.io/hostname", YAMLBuilder.str(p.node))])))
        if p.controlPlane {
            spec.append(
                (
                    "tolerations",
                    YAMLBuilder.seq([
                        YAMLBuilder.map([
                            ("key", YAMLBuilder.str("node-role.kubernetes.io/control-plane")),
                            ("operator", YAMLBuilder.str("Exists")),
                            ("effect", YAMLBuilder.str("NoSchedule")),
                        ])
                    ])
                ))
        }
        spec.append(("restartPolicy", YAMLBuilder.str("Never")))
        spec.append(("terminationGracePeriodSeconds", YAMLBuilder.int(5)))
        spec.append(("enableServiceLinks", YAMLBuilder.bool(false)))
        spec.append(("containers", YAMLBuilder.seq([container])))
        if p.unikernel == nil {
            spec.append(
                (
                    "volumes",
                    YAMLBuilder.seq([
                        YAMLBuilder.map([
                            ("name", YAMLBuilder.str("scratch")), ("emptyDir", YAMLBuilder.emptyMap),
                        ])
                    ])
                ))
        }
        return spec
    }

    static func labels(_ s: Settings, _ more: [(String, String)]) -> Node {
        YAMLBuilder.map(
            ([
                ("app.kubernetes.io/managed-by", "nestlab"), ("app.kubernetes.io/part-of", "nestlab-bench"),
                ("nestlab.dev/bench-run", s.runID),
            ] + more).map { ($0.0, YAMLBuilder.str($0.1)) })
    }

    /// The pod name of a runtime's client or server: `bench-RUNTIME-ROLE`, cut to 63
    /// characters with a digest of the runtime name when it is too long.
    public static func podName(runtime: String, role: String) -> String {
        let name = "bench-\(runtime)-\(role)"
        if name.count <= 63 { return name }
        let digest = Identity.hex(runtime).prefix(8)
        return "bench-\(runtime.prefix(63 - 6 - 1 - role.count - 9))-\(digest)-\(role)"
    }

    /// The benchmarks a unikernel server can stand in for, and the port it serves on.
    public static let unikernelPorts = ["iperf3": 5201, "redis": 6379]

    /// Why a runtime cannot run the benchmarks in pods, or nil when it can. urunc runs only
    /// unikernel servers (`unikernels`: benchmark → image), measured from a client pod on the
    /// node's default runtime.
    public static func unsupported(runtime: String, kind: String, unikernels: [String: String] = [:]) -> String? {
        if kind == "vm" {
            return
                "\(runtime) runs VirtualMachineInstances, not pods: measure inside the VM with machines mode (nestlab bench --ssh USER@VMI-ADDRESS)"
        }
        if runtime == "urunc" && unikernels.isEmpty {
            return
                "urunc runs unikernel images, which have no shell for the tools: give unikernel servers built for the cluster's urunc monitors with --unikernel redis=IMAGE (or iperf3=IMAGE)"
        }
        return nil
    }

    /// The documents of `kubectl apply`, as YAML.
    public static func yaml(_ nodes: [Node]) throws -> String {
        try YAMLBuilder.render(nodes)
    }
}
