/// One value parsed from a benchmark's raw output, before it is stamped with the run's
/// environment, machine and time to become a `BenchSample`.
public struct BenchMetric: Sendable, Hashable {
    /// e.g. `throughput`, `SET`, `SET-p50`, `cpu`, `tps`, `read-iops`.
    public var name: String
    /// e.g. `Gbit/s`, `requests/s`, `bogo-ops/s`, `ms`, `IOPS`, `MiB/s`, `us`.
    public var unit: String
    public var value: Double
    public var direction: BenchSample.Direction

    public init(name: String, unit: String, value: Double, direction: BenchSample.Direction) {
        self.name = name
        self.unit = unit
        self.value = value
        self.direction = direction
    }
}
