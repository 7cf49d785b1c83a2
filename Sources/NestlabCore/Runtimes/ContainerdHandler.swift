/// One containerd runtime handler (what a RuntimeClass `handler` names).
public struct ContainerdHandler: Sendable, Hashable {
    public var name: String
    public var runtimeType: String
    public var runtimePath: String?
    public var privilegedWithoutHostDevices: Bool
    public var podAnnotations: [String]
    public var containerAnnotations: [String]
    public var snapshotter: String?
    /// `options` table entries (shim-specific), in order.
    public var options: [String: TOMLValue]
    public var optionOrder: [String]

    public init(
        name: String, runtimeType: String, runtimePath: String? = nil,
        privilegedWithoutHostDevices: Bool = false, podAnnotations: [String] = [],
        containerAnnotations: [String] = [], snapshotter: String? = nil,
        options: [(String, TOMLValue)] = []
    ) {
        self.name = name
        self.runtimeType = runtimeType
        self.runtimePath = runtimePath
        self.privilegedWithoutHostDevices = privilegedWithoutHostDevices
        self.podAnnotations = podAnnotations
        self.containerAnnotations = containerAnnotations
        self.snapshotter = snapshotter
        self.options = Dictionary(uniqueKeysWithValues: options)
        self.optionOrder = options.map(\.0)
    }
}
