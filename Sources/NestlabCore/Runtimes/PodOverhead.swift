/// A Kubernetes pod overhead (`RuntimeClass.overhead.podFixed`).
public struct PodOverhead: Sendable, Hashable {
    public var memory: String
    public var cpu: String
    public init(memory: String, cpu: String) {
        self.memory = memory
        self.cpu = cpu
    }
    /// What kata-deploy's static RuntimeClass files set for every Kata class in 3.x
    /// (`tools/packaging/kata-deploy/runtimeclasses/kata-qemu.yaml`).
    public static let kataDefault = PodOverhead(memory: "160Mi", cpu: "250m")
}
