/// One smoke test: an object applied after install and what it must reach.
public struct SmokeTest: Sendable, Hashable {
    public enum Expectation: String, Sendable, Hashable {
        /// Pod phase Succeeded (the container ran and exited 0).
        case succeeded = "Succeeded"
        /// Pod phase Running (long-running images, such as urunc's unikernels).
        case running = "Running"
        /// VMI condition Ready.
        case ready = "Ready"
    }
    /// The runtime it proves: runc, crun, kata-qemu, urunc, kubevirt, ...
    public var runtime: String
    public var kind: String
    public var name: String
    public var namespace: String
    public var expectation: Expectation
    public var manifest: String

    /// File name under the smoke directory.
    public var fileName: String { "\(runtime).yaml" }
}
