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

/// Reading and writing `results.jsonl`: one JSON object per line, keys sorted, times in
/// RFC 3339 UTC with milliseconds, so that the same samples give the same bytes.
public enum ResultsFile {
    public static let name = "results.jsonl"

    /// A new formatter each time (formatters are not Sendable; samples are few).
    static var formatter: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatter.string(from: date))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = formatter.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "not an RFC 3339 time with milliseconds: \(text)")
            }
            return date
        }
        return d
    }

    /// One line (with its newline) for a sample.
    public static func line(_ s: BenchSample) throws -> String {
        String(decoding: try encoder().encode(s), as: UTF8.self) + "\n"
    }

    /// Parses a results.jsonl; an unreadable line is an error naming the file and line.
    public static func parse(_ text: String, file: String) throws -> [BenchSample] {
        var out: [BenchSample] = []
        let d = decoder()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            do {
                let s = try d.decode(BenchSample.self, from: Data(t.utf8))
                guard s.schemaVersion == BenchSample.currentSchemaVersion else {
                    throw ResultsError.badLine(
                        file: file, line: i + 1,
                        reason:
                            "schemaVersion \(s.schemaVersion); this nestlab reads \(BenchSample.currentSchemaVersion)")
                }
                out.append(s)
            } catch let e as ResultsError {
                throw e
            } catch {
                throw ResultsError.badLine(file: file, line: i + 1, reason: "\(error)")
            }
        }
        return out
    }
}

public enum ResultsError: Error, CustomStringConvertible, Equatable {
    case badLine(file: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .badLine(let f, let l, let r): return "\(f):\(l): not a results sample: \(r)"
        }
    }
}
