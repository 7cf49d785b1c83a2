import Foundation

/// One measured value: a line of `results.jsonl` (schema: docs/results.schema.json).
///
/// A benchmark run yields several samples per repetition (iperf3's throughput and
/// retransmits, fio's IOPS and latency, ...). Every sample says which environment, runtime
/// and machine produced it, when, with which parameters, and which raw output file it was
/// parsed from (`raw`, relative to the folder of the results.jsonl).
public struct BenchSample: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1

    public enum Direction: String, Codable, Sendable, Hashable {
        /// More is better (throughput, operations per second).
        case higher
        /// Less is better (latency, retransmits).
        case lower
    }

    public var schemaVersion: Int
    /// `iperf3`, `redis`, `stress-ng`, `pgbench`, `fio`.
    public var benchmark: String
    /// What was measured, e.g. `throughput`, `SET`, `tps`, `read-iops`.
    public var metric: String
    /// e.g. `Gbit/s`, `requests/s`, `bogo-ops/s`, `tps`, `IOPS`, `ms`.
    public var unit: String
    public var value: Double
    public var direction: Direction
    /// The run's label (`--environment`): `baremetal`, `nested`, `nested-mitigated`, ...
    public var environment: String
    /// `runc`, `kata-qemu`, `kubevirt`, ... or `none` for a machine without Kubernetes.
    public var runtime: String
    /// The machine (or SSH target) it ran on.
    public var machine: String
    /// 1-based; the discarded warm-up is not recorded.
    public var repetition: Int
    public var start: Date
    public var end: Date
    /// The benchmark's parameters as they were used (duration, size, threads, ...).
    public var parameters: [String: String]
    /// The raw output file this sample was parsed from, relative to the results folder.
    public var raw: String

    public init(
        benchmark: String, metric: String, unit: String, value: Double, direction: Direction, environment: String,
        runtime: String, machine: String, repetition: Int, start: Date, end: Date, parameters: [String: String],
        raw: String
    ) {
        self.schemaVersion = Self.currentSchemaVersion
        self.benchmark = benchmark
        self.metric = metric
        self.unit = unit
        self.value = value
        self.direction = direction
        self.environment = environment
        self.runtime = runtime
        self.machine = machine
        self.repetition = repetition
        self.start = start
        self.end = end
        self.parameters = parameters
        self.raw = raw
    }

    /// The identity of a series: samples that differ only in repetition (and time) are repeats.
    public struct SeriesKey: Hashable, Sendable, Comparable {
        public var benchmark: String
        public var metric: String
        public var environment: String
        public var runtime: String

        public static func < (a: Self, b: Self) -> Bool {
            (a.benchmark, a.metric, a.environment, a.runtime) < (b.benchmark, b.metric, b.environment, b.runtime)
        }
    }

    public var seriesKey: SeriesKey {
        SeriesKey(benchmark: benchmark, metric: metric, environment: environment, runtime: runtime)
    }
}
