/// kubelet CPU management (`KubeletConfiguration`).
public struct KubeletTuning: Sendable, Hashable {
    public enum CPUManagerPolicy: String, Sendable, Hashable { case none, `static` }
    public enum TopologyManagerPolicy: String, Sendable, Hashable {
        case none
        case bestEffort = "best-effort"
        case restricted
        case singleNUMANode = "single-numa-node"
    }
    /// Default `none`; `static` gives Guaranteed pods with integer CPUs exclusive cores.
    public var cpuManagerPolicy: CPUManagerPolicy
    /// cpuset kept for the system (`reservedSystemCPUs`), for example `0` or `0-1`. Needed by `static`.
    public var reservedSystemCPUs: String?
    /// Default `none`.
    public var topologyManagerPolicy: TopologyManagerPolicy
    /// `failSwapOn: false` when the node may have swap (default true: cloud images and
    /// bare-metal hosts often do; node-prep turns swap off anyway).
    public var swapMayExist: Bool

    public init(
        cpuManagerPolicy: CPUManagerPolicy = .none, reservedSystemCPUs: String? = nil,
        topologyManagerPolicy: TopologyManagerPolicy = .none, swapMayExist: Bool = true
    ) {
        self.cpuManagerPolicy = cpuManagerPolicy
        self.reservedSystemCPUs = reservedSystemCPUs
        self.topologyManagerPolicy = topologyManagerPolicy
        self.swapMayExist = swapMayExist
    }

    func validate() throws {
        if let set = reservedSystemCPUs, !Self.isCPUSet(set) { throw KubeError.invalidCPUSet(set) }
        if cpuManagerPolicy == .static, (reservedSystemCPUs ?? "").isEmpty {
            throw KubeError.kubeletConflict(
                "kubelet cpuManagerPolicy 'static' needs reservedSystemCPUs (for example \"0\"): the kubelet refuses static without a CPU reservation"
            )
        }
    }

    static func isCPUSet(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        for item in s.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
            else { return false }
            if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a > b { return false }
        }
        return true
    }
}
