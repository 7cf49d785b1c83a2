// MARK: - Series and environments

/// One compared series of a metric: an environment with a runtime, e.g. `nested/kata-qemu`.
public struct BenchSeriesID: Hashable, Sendable, Codable, CustomStringConvertible {
    public var environment: String
    public var runtime: String

    public init(environment: String, runtime: String) {
        self.environment = environment
        self.runtime = runtime
    }

    public var description: String { "\(environment)/\(runtime)" }
}
