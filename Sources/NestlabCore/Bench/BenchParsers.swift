import Foundation
import Yams

/// Parsers from the raw stdout of the five benchmark tools to metrics.
///
/// Each parser reads the machine-readable form where the tool has one (iperf3 `-J`, fio
/// `--output-format=json`, redis-benchmark `--csv`, stress-ng `--yaml`) and pgbench's text
/// otherwise. Fixtures of real outputs, and the commands that made them, are in
/// Tests/NestlabCoreTests/Fixtures/bench/.
public enum BenchParsers {
    public static let benchmarks = ["iperf3", "redis", "stress-ng", "pgbench", "fio"]

    /// Dispatch by benchmark name; throws BenchParseError with what was wrong (benchmark, file if given, reason).
    public static func parse(benchmark: String, output: Data, file: String = "") throws -> [BenchMetric] {
        let context = Context(benchmark: benchmark, file: file)
        let metrics: [BenchMetric]
        switch benchmark {
        case "iperf3": metrics = try iperf3(output, context)
        case "redis": metrics = try redis(output, context)
        case "stress-ng": metrics = try stressNG(output, context)
        case "pgbench": metrics = try pgbench(output, context)
        case "fio": metrics = try fio(output, context)
        default: throw BenchParseError.unknownBenchmark(benchmark)
        }
        if metrics.isEmpty { throw context.malformed("no metrics in the output") }
        // Every quantity measured here is a rate, a count or a time: none may be negative.
        for m in metrics where !m.value.isFinite || m.value < 0 {
            throw BenchParseError.badValue(benchmark: benchmark, file: file, metric: m.name, value: "\(m.value)")
        }
        return metrics
    }

    /// Names the benchmark and file in errors.
    struct Context {
        var benchmark: String
        var file: String

        func malformed(_ reason: String) -> BenchParseError {
            .malformed(benchmark: benchmark, file: file, reason: reason)
        }

        func toolError(_ message: String) -> BenchParseError {
            .toolError(benchmark: benchmark, file: file, message: message)
        }

        /// Decodes JSON, turning a decoding error into a short reason (what was missing, where).
        func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: data)
            } catch let e as DecodingError {
                if case .dataCorrupted(let ctx) = e, ctx.codingPath.isEmpty, let why = Self.jsonSyntaxError(data) {
                    throw malformed("not valid JSON: \(why)")
                }
                throw malformed(BenchParsers.describe(e, format: "JSON"))
            }
        }

        /// Where the JSON syntax breaks ("Unexpected end of file during JSON parse."): JSONDecoder says
        /// only "The given data was not valid JSON.", JSONSerialization says why.
        static func jsonSyntaxError(_ data: Data) -> String? {
            do {
                _ = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
                return nil
            } catch {
                return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            }
        }
    }

    // MARK: iperf3 -J

    // The decoded types spell keys as the tools do (snake_case), so that errors name the tool's own keys.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    struct IPerf3Output: Decodable {
        struct End: Decodable {
            struct Sum: Decodable {
                var bits_per_second: Double
                var retransmits: Int?
            }
            var sum_received: Sum?
            var sum_sent: Sum?
        }
        var end: End?
        var error: String?
    }

    static func iperf3(_ data: Data, _ c: Context) throws -> [BenchMetric] {
        let out = try c.decodeJSON(IPerf3Output.self, from: data)
        if let error = out.error { throw c.toolError(error) }
        guard let received = out.end?.sum_received else {
            throw c.malformed("no end.sum_received (a TCP test's result); is this the output of iperf3 -J?")
        }
        var metrics = [
            BenchMetric(
                name: "throughput", unit: "Gbit/s", value: received.bits_per_second / 1e9,
                direction: .higher)
        ]
        if let retransmits = out.end?.sum_sent?.retransmits {
            metrics.append(
                BenchMetric(
                    name: "retransmits", unit: "count", value: Double(retransmits),
                    direction: .lower))
        }
        return metrics
    }

    // MARK: redis-benchmark --csv

    static func redis(_ data: Data, _ c: Context) throws -> [BenchMetric] {
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let header = lines.first else { throw c.malformed("the output is empty") }
        let names = csvFields(header)
        guard let test = names.firstIndex(of: "test"), let rps = names.firstIndex(of: "rps"),
            let p50 = names.firstIndex(of: "p50_latency_ms")
        else {
            throw c.malformed(
                "the first line is not redis 7's CSV header with \"test\", \"rps\" and \"p50_latency_ms\": " + header)
        }
        var metrics: [BenchMetric] = []
        for (i, line) in lines.dropFirst().enumerated() {
            let fields = csvFields(line)
            guard fields.count == names.count else {
                throw c.malformed("line \(i + 2) has \(fields.count) fields, the header \(names.count): \(line)")
            }
            func number(_ column: Int) throws -> Double {
                guard let v = Double(fields[column]) else {
                    throw c.malformed("line \(i + 2): \(names[column]) is not a number: \"\(fields[column])\"")
                }
                return v
            }
            let name = fields[test]
            metrics.append(BenchMetric(name: name, unit: "requests/s", value: try number(rps), direction: .higher))
            metrics.append(BenchMetric(name: name + "-p50", unit: "ms", value: try number(p50), direction: .lower))
        }
        if metrics.isEmpty { throw c.malformed("a header but no test rows") }
        return metrics
    }

    /// Splits one CSV line: fields may be quoted, with `""` for a quote inside.
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? chars.next() {
            pending = nil
            if quoted {
                if ch == "\"" {
                    let next = chars.next()
                    if next == "\"" {
                        field.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    field.append(ch)
                }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(ch)
            }
        }
        fields.append(field)
        return fields
    }

    // MARK: stress-ng --metrics --yaml

    struct StressNGOutput: Decodable {
        struct Stressor: Decodable {
            var stressor: String
            var bogoOpsPerSecondRealTime: Double

            enum CodingKeys: String, CodingKey {
                case stressor
                case bogoOpsPerSecondRealTime = "bogo-ops-per-second-real-time"
            }
        }
        var metrics: [Stressor]?
    }

    static func stressNG(_ data: Data, _ c: Context) throws -> [BenchMetric] {
        let out: StressNGOutput
        do {
            out = try YAMLDecoder().decode(StressNGOutput.self, from: data)
        } catch let e as DecodingError {
            if case .dataCorrupted(let ctx) = e, let y = ctx.underlyingError as? YamlError {
                throw c.malformed("not valid YAML: \(yamlReason(y))")
            }
            throw c.malformed(describe(e, format: "YAML"))
        } catch let e as YamlError {
            throw c.malformed("not valid YAML: \(yamlReason(e))")
        }
        guard let stressors = out.metrics, !stressors.isEmpty else {
            throw c.malformed("no stressors under metrics: (was stress-ng run with --metrics?)")
        }
        return stressors.map {
            BenchMetric(name: $0.stressor, unit: "bogo-ops/s", value: $0.bogoOpsPerSecondRealTime, direction: .higher)
        }
    }

    /// A Yams error on one line, `line:column: problem (context)`, without the input that Yams quotes after it.
    static func yamlReason(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "\(mark.line):\(mark.column): \(problem)" + (context.map { " (\($0.text))" } ?? "")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "\(context.mark.line):\(context.mark.column): duplicate keys \(duplicates.joined(separator: ", "))"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }

    // MARK: pgbench (text)

    static func pgbench(_ data: Data, _ c: Context) throws -> [BenchMetric] {
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        /// The number after `prefix` on a line that starts with it (`tps = 305.25 (...)`).
        func value(_ line: String, after prefix: String) -> Double? {
            guard line.hasPrefix(prefix) else { return nil }
            return line.dropFirst(prefix.count).split(separator: " ").first.flatMap { Double($0) }
        }
        // pgbench 14+ prints one tps line "(without initial connection time)"; before 14 there were two,
        // "(including connections establishing)" and "(excluding ...)". Prefer the one without connections.
        let tpsLines = lines.filter { $0.hasPrefix("tps = ") }
        let tpsLine =
            tpsLines.first { $0.contains("without initial connection") || $0.contains("excluding") }
            ?? tpsLines.first
        guard let tpsLine, let tps = value(tpsLine, after: "tps = ") else {
            let tail = lines.filter { !$0.isEmpty }.suffix(5)
            throw c.malformed(
                tail.isEmpty
                    ? "no \"tps = \" line: the output is empty"
                    : "no \"tps = \" line; the output ends with:\n" + tail.joined(separator: "\n"))
        }
        var metrics = [BenchMetric(name: "tps", unit: "tps", value: tps, direction: .higher)]
        if let line = lines.first(where: { $0.hasPrefix("latency average = ") }) {
            guard line.hasSuffix(" ms"), let latency = value(line, after: "latency average = ") else {
                throw c.malformed("cannot read the latency in milliseconds from: \(line)")
            }
            metrics.append(BenchMetric(name: "latency", unit: "ms", value: latency, direction: .lower))
        }
        return metrics
    }

    // MARK: fio --output-format=json

    // Keys as fio writes them (see IPerf3Output).
    // swift-format-ignore: AlwaysUseLowerCamelCase
    struct FioOutput: Decodable {
        struct Job: Decodable {
            struct IO: Decodable {
                struct Latency: Decodable {
                    var mean: Double
                    var N: Int?
                }
                var io_bytes: Double
                var bw_bytes: Double
                var iops: Double
                var clat_ns: Latency?
                var lat_ns: Latency?
            }
            var jobname: String?
            var error: Int?
            var read: IO
            var write: IO
        }
        var jobs: [Job]
    }

    static func fio(_ data: Data, _ c: Context) throws -> [BenchMetric] {
        // fio prints notes ("note: both iodepth >= 1 and synchronous I/O engine are selected, ...") before the JSON.
        guard let brace = data.firstIndex(of: UInt8(ascii: "{")) else {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw c.malformed(text.isEmpty ? "the output is empty" : "no JSON object in the output: " + text)
        }
        let out = try c.decodeJSON(FioOutput.self, from: data[brace...])
        guard out.jobs.count == 1, let job = out.jobs.first else {
            throw c.malformed("\(out.jobs.count) jobs; nestlab runs exactly one (--name=bench)")
        }
        if let error = job.error, error != 0 {
            throw c.toolError("job \(job.jobname ?? "?") failed with error \(error)")
        }
        var metrics: [BenchMetric] = []
        for (direction, io) in [("read", job.read), ("write", job.write)] where io.io_bytes > 0 {
            // clat is completion latency; with disable_clat=1 fio still writes clat_ns, with N 0 and mean 0.
            let clat = io.clat_ns.flatMap { $0.N == 0 ? nil : $0 }
            guard let latency = clat ?? io.lat_ns else {
                throw c.malformed("jobs[0].\(direction) has neither clat_ns nor lat_ns")
            }
            metrics.append(BenchMetric(name: "\(direction)-iops", unit: "IOPS", value: io.iops, direction: .higher))
            metrics.append(
                BenchMetric(
                    name: "\(direction)-bw", unit: "MiB/s", value: io.bw_bytes / 1_048_576,
                    direction: .higher))
            metrics.append(
                BenchMetric(
                    name: "\(direction)-lat", unit: "us", value: latency.mean / 1000,
                    direction: .lower))
        }
        if metrics.isEmpty { throw c.malformed("the job neither read nor wrote (io_bytes is 0 for both)") }
        return metrics
    }

    // MARK: errors

    /// A decoding error as one line: what is missing or wrong, and where (`end.sum_received`).
    static func describe(_ error: DecodingError, format: String) -> String {
        func path(_ keys: [CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return "missing key \(path(ctx.codingPath + [key]))"
        case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)) is not a \(type)"
        case .dataCorrupted(let ctx):
            let underlying = ctx.underlyingError.map { " (\($0))" } ?? ""
            let at = ctx.codingPath.isEmpty ? "" : " at \(path(ctx.codingPath))"
            return "not valid \(format)\(at): \(ctx.debugDescription)\(underlying)"
        @unknown default:
            return "not valid \(format): \(error)"
        }
    }
}
