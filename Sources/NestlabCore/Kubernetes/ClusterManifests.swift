import Yams

// Cluster-level objects: RuntimeClasses, the KubeVirt CR and the smoke tests.
//
// Pinned formats:
// - node.k8s.io/v1 RuntimeClass (handler, overhead.podFixed, scheduling.nodeSelector);
//   Kata classes as kata-deploy 3.x ships them
//   (tools/packaging/kata-deploy/runtimeclasses/kata-qemu.yaml: overhead 160Mi/250m,
//   nodeSelector katacontainers.io/kata-runtime: "true"); urunc as urunc's k8s tutorial
//   (handler urunc) with urunc-deploy's node label urunc.io/urunc-runtime=true.
// - kubevirt.io/v1 KubeVirt as the release's kubevirt-cr.yaml (name kubevirt, namespace
//   kubevirt), plus spec.configuration.developerConfiguration.{useEmulation, featureGates};
//   the CPUManager gate lets KubeVirt label CPU-manager nodes for dedicatedCpuPlacement
//   (kubevirt user-guide, dedicated_cpu_resources.md).
// - kubevirt.io/v1 VirtualMachineInstance with a containerDisk.

/// Builds the cluster-level manifests of a cluster.
public enum ClusterManifests {
    static func runtimeClass(name: String, overhead: PodOverhead?, nodeSelector: (key: String, value: String)?) -> Node
    {
        var pairs: [(String, Node)] = [
            ("apiVersion", YAMLBuilder.str("node.k8s.io/v1")),
            ("kind", YAMLBuilder.str("RuntimeClass")),
            (
                "metadata",
                YAMLBuilder.map([
                    ("name", YAMLBuilder.str(name)),
                    ("labels", YAMLBuilder.map([("app.kubernetes.io/managed-by", YAMLBuilder.str("nestlab"))])),
                ])
            ),
            ("handler", YAMLBuilder.str(name)),
        ]
        if let overhead {
            pairs.append(
                (
                    "overhead",
                    YAMLBuilder.map([
                        (
                            "podFixed",
                            YAMLBuilder.map([
                                ("memory", YAMLBuilder.str(overhead.memory)),
                                ("cpu", YAMLBuilder.str(overhead.cpu)),
                            ])
                        )
                    ])
                ))
        }
        if let nodeSelector {
            pairs.append(
                (
                    "scheduling",
                    YAMLBuilder.map([
                        (
                            "nodeSelector",
                            YAMLBuilder.map([
                                (nodeSelector.key, YAMLBuilder.str(nodeSelector.value))
                            ])
                        )
                    ])
                ))
        }
        return YAMLBuilder.map(pairs)
    }

    /// RuntimeClasses for every handler beside runc (which is the default and needs none).
    public static func runtimeClasses(_ cluster: ClusterSpec) -> [Node] {
        var out: [Node] = []
        if cluster.runtimes.crun { out.append(runtimeClass(name: "crun", overhead: nil, nodeSelector: nil)) }
        if let kata = cluster.runtimes.kata {
            for hypervisor in kata.hypervisors {
                out.append(
                    runtimeClass(name: hypervisor.handler, overhead: kata.overhead, nodeSelector: KataSpec.nodeLabel))
            }
        }
        if cluster.runtimes.urunc != nil {
            out.append(runtimeClass(name: "urunc", overhead: nil, nodeSelector: UruncSpec.nodeLabel))
        }
        return out
    }

    /// The KubeVirt CR, or nil when KubeVirt is not enabled.
    public static func kubevirtCR(_ cluster: ClusterSpec) -> Node? {
        guard let kubevirt = cluster.runtimes.kubevirt else { return nil }
        var gates: [String] = []
        if cluster.kubelet.cpuManagerPolicy == .static { gates.append("CPUManager") }
        var developer: [(String, Node)] = [("featureGates", YAMLBuilder.strs(gates))]
        if kubevirt.useEmulation { developer.append(("useEmulation", YAMLBuilder.bool(true))) }
        return YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str("kubevirt.io/v1")),
            ("kind", YAMLBuilder.str("KubeVirt")),
            (
                "metadata",
                YAMLBuilder.map([("name", YAMLBuilder.str("kubevirt")), ("namespace", YAMLBuilder.str("kubevirt"))])
            ),
            (
                "spec",
                YAMLBuilder.map([
                    ("certificateRotateStrategy", YAMLBuilder.emptyMap),
                    ("configuration", YAMLBuilder.map([("developerConfiguration", YAMLBuilder.map(developer))])),
                    ("customizeComponents", YAMLBuilder.emptyMap),
                    ("imagePullPolicy", YAMLBuilder.str("IfNotPresent")),
                    ("workloadUpdateStrategy", YAMLBuilder.emptyMap),
                ])
            ),
        ])
    }

    static func smokePod(runtime: String, runtimeClass: String?, image: String, command: [String]?) -> Node {
        var container: [(String, Node)] = [
            ("name", YAMLBuilder.str("smoke")),
            ("image", YAMLBuilder.str(image)),
        ]
        if let command { container.append(("command", YAMLBuilder.strs(command))) }
        var spec: [(String, Node)] = []
        if let runtimeClass { spec.append(("runtimeClassName", YAMLBuilder.str(runtimeClass))) }
        spec.append(("restartPolicy", YAMLBuilder.str("Never")))
        spec.append(("terminationGracePeriodSeconds", YAMLBuilder.int(0)))
        spec.append(("containers", YAMLBuilder.seq([YAMLBuilder.map(container)])))
        return YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str("v1")),
            ("kind", YAMLBuilder.str("Pod")),
            (
                "metadata",
                YAMLBuilder.map([
                    ("name", YAMLBuilder.str("nestlab-smoke-\(runtime)")),
                    ("namespace", YAMLBuilder.str("default")),
                    ("labels", YAMLBuilder.map([("app.kubernetes.io/managed-by", YAMLBuilder.str("nestlab"))])),
                ])
            ),
            ("spec", YAMLBuilder.map(spec)),
        ])
    }

    static func smokeVMI(image: String) -> Node {
        YAMLBuilder.map([
            ("apiVersion", YAMLBuilder.str("kubevirt.io/v1")),
            ("kind", YAMLBuilder.str("VirtualMachineInstance")),
            (
                "metadata",
                YAMLBuilder.map([
                    ("name", YAMLBuilder.str("nestlab-smoke-kubevirt")),
                    ("namespace", YAMLBuilder.str("default")),
                    ("labels", YAMLBuilder.map([("app.kubernetes.io/managed-by", YAMLBuilder.str("nestlab"))])),
                ])
            ),
            (
                "spec",
                YAMLBuilder.map([
                    ("terminationGracePeriodSeconds", YAMLBuilder.int(0)),
                    (
                        "domain",
                        YAMLBuilder.map([
                            (
                                "devices",
                                YAMLBuilder.map([
                                    (
                                        "disks",
                                        YAMLBuilder.seq([
                                            YAMLBuilder.map([
                                                ("name", YAMLBuilder.str("containerdisk")),
                                                ("disk", YAMLBuilder.map([("bus", YAMLBuilder.str("virtio"))])),
                                            ])
                                        ])
                                    )
                                ])
                            ),
                            (
                                "resources",
                                YAMLBuilder.map([("requests", YAMLBuilder.map([("memory", YAMLBuilder.str("128Mi"))]))])
                            ),
                        ])
                    ),
                    (
                        "volumes",
                        YAMLBuilder.seq([
                            YAMLBuilder.map([
                                ("name", YAMLBuilder.str("containerdisk")),
                                ("containerDisk", YAMLBuilder.map([("image", YAMLBuilder.str(image))])),
                            ])
                        ])
                    ),
                ])
            ),
        ])
    }

    /// One smoke test per runtime: a pod that runs to success (runc, crun, Kata), a urunc
    /// pod that reaches Running, and a VMI that becomes Ready.
    public static func smokeTests(_ cluster: ClusterSpec) throws -> [SmokeTest] {
        let image = cluster.runtimes.smokeImage
        let command = ["sh", "-c", "echo nestlab-smoke-ok"]
        var pods: [(runtime: String, node: Node, expect: SmokeTest.Expectation)] = [
            ("runc", smokePod(runtime: "runc", runtimeClass: nil, image: image, command: command), .succeeded)
        ]
        if cluster.runtimes.crun {
            pods.append(
                ("crun", smokePod(runtime: "crun", runtimeClass: "crun", image: image, command: command), .succeeded))
        }
        for hypervisor in cluster.runtimes.kata?.hypervisors ?? [] {
            pods.append(
                (
                    hypervisor.handler,
                    smokePod(
                        runtime: hypervisor.handler, runtimeClass: hypervisor.handler, image: image, command: command),
                    .succeeded
                ))
        }
        if let urunc = cluster.runtimes.urunc {
            pods.append(
                (
                    "urunc", smokePod(runtime: "urunc", runtimeClass: "urunc", image: urunc.smokeImage, command: nil),
                    .running
                ))
        }
        var tests = try pods.map { pod in
            SmokeTest(
                runtime: pod.runtime, kind: "Pod", name: "nestlab-smoke-\(pod.runtime)", namespace: "default",
                expectation: pod.expect, manifest: try YAMLBuilder.render([pod.node]))
        }
        if let kubevirt = cluster.runtimes.kubevirt {
            tests.append(
                SmokeTest(
                    runtime: "kubevirt", kind: "VirtualMachineInstance", name: "nestlab-smoke-kubevirt",
                    namespace: "default", expectation: .ready,
                    manifest: try YAMLBuilder.render([smokeVMI(image: kubevirt.effectiveSmokeDiskImage)])))
        }
        return tests
    }
}
