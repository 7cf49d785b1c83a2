public enum BenchParseError: Error, CustomStringConvertible, Equatable {
    /// The benchmark name is not one of `BenchParsers.benchmarks`.
    case unknownBenchmark(String)
    /// The tool reported a failure instead of results (iperf3's "error", a fio job's error code).
    case toolError(benchmark: String, file: String, message: String)
    /// The output is not what the tool prints on success: truncated, another format, a missing line.
    case malformed(benchmark: String, file: String, reason: String)
    /// A parsed value is not a finite, non-negative number.
    case badValue(benchmark: String, file: String, metric: String, value: String)

    public var description: String {
        func source(_ benchmark: String, _ file: String) -> String {
            file.isEmpty ? "\(benchmark) output" : "\(benchmark) output \(file)"
        }
        switch self {
        case .unknownBenchmark(let name):
            return "unknown benchmark '\(name)'; valid benchmarks: \(BenchParsers.benchmarks.joined(separator: ", "))"
        case .toolError(let b, let f, let message):
            return "\(source(b, f)): \(b) reported an error: \(message)"
        case .malformed(let b, let f, let reason):
            return "\(source(b, f)): \(reason)"
        case .badValue(let b, let f, let metric, let value):
            return "\(source(b, f)): \(metric) is \(value); expected a finite number >= 0"
        }
    }
}
