import Foundation
import Yams

/// The benchmarks' parameters, in one place, with the paper's defaults; a YAML file
/// (`nestlab bench --params FILE`) overrides any of them:
///
/// ```yaml
/// duration: 60            # seconds per measurement (iperf3, stress-ng, pgbench, fio)
/// iperf3: {streams: 1}
/// redis: {requests: 100000, clients: 50, pipeline: 1}
/// stress-ng: {cpus: 0, method: all}       # 0: one worker per online CPU
/// pgbench: {scale: 10, clients: 4, threads: 2}
/// fio: {size: 1G, rw: randrw, bs: 4k, iodepth: 32, engine: libaio, direct: 1}
/// ```
///
/// Every value is checked (type, range, and for strings a grammar), because each reaches the
/// machine's shell as an environment variable of `bench-node.sh`.
public struct BenchParameters: Sendable, Hashable {
    public var duration = 60
    public var iperf3Streams = 1
    public var redisRequests = 100_000
    public var redisClients = 50
    public var redisPipeline = 1
    public var stressCPUs = 0
    public var stressMethod = "all"
    public var pgbenchScale = 10
    public var pgbenchClients = 4
    public var pgbenchThreads = 2
    public var fioSize = "1G"
    public var fioRW = "randrw"
    public var fioBS = "4k"
    public var fioIODepth = 32
    public var fioEngine = "libaio"
    public var fioDirect = 1

    public init() {}

    /// The benchmarks, in the order they run and are reported.
    public static let benchmarks = ["iperf3", "redis", "stress-ng", "pgbench", "fio"]

    /// What `bench-node.sh` reads for `bench`, and what the samples record as its parameters.
    public func values(for bench: String) -> [(env: String, key: String, value: String)] {
        switch bench {
        case "iperf3":
            return [("BENCH_DURATION", "duration", "\(duration)"), ("IPERF3_STREAMS", "streams", "\(iperf3Streams)")]
        case "redis":
            return [
                ("REDIS_REQUESTS", "requests", "\(redisRequests)"), ("REDIS_CLIENTS", "clients", "\(redisClients)"),
                ("REDIS_PIPELINE", "pipeline", "\(redisPipeline)"),
            ]
        case "stress-ng":
            return [
                ("BENCH_DURATION", "duration", "\(duration)"), ("STRESS_CPUS", "cpus", "\(stressCPUs)"),
                ("STRESS_CPU_METHOD", "method", stressMethod),
            ]
        case "pgbench":
            return [
                ("BENCH_DURATION", "duration", "\(duration)"), ("PGBENCH_SCALE", "scale", "\(pgbenchScale)"),
                ("PGBENCH_CLIENTS", "clients", "\(pgbenchClients)"),
                ("PGBENCH_THREADS", "threads", "\(pgbenchThreads)"),
            ]
        case "fio":
            return [
                ("BENCH_DURATION", "duration", "\(duration)"), ("FIO_SIZE", "size", fioSize), ("FIO_RW", "rw", fioRW),
                ("FIO_BS", "bs", fioBS), ("FIO_IODEPTH", "iodepth", "\(fioIODepth)"),
                ("FIO_ENGINE", "engine", fioEngine),
                ("FIO_DIRECT", "direct", "\(fioDirect)"),
            ]
        default:
            return []
        }
    }

    /// Roughly how long one measurement of `bench` takes, for the time-left estimate.
    public func expectedSeconds(for bench: String) -> Double {
        bench == "redis" ? Double(redisRequests) / 20_000 : Double(duration)
    }

    // MARK: the override file

    /// Reads overrides from YAML text; `file` names it in errors (`file:line: …`).
    public static func load(yaml text: String, file: String, over base: BenchParameters = BenchParameters()) throws
        -> BenchParameters
    {
        var p = base
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw BenchParameterError(file: file, line: nil, message: "not valid YAML: \(error)")
        }
        guard let node else { return p }
        guard let top = node.mapping else {
            throw BenchParameterError(
                file: file, line: node.mark?.line,
                message: "expected a mapping of parameters (duration, iperf3, redis, stress-ng, pgbench, fio)")
        }
        for (k, v) in top { try p.set(k, v, file) }
        return p
    }

    /// Sets the top-level parameter `k` (a number, or a section of them) from `v`.
    private mutating func set(_ k: Node, _ v: Node, _ file: String) throws {
        let key = k.string ?? ""
        switch key {
        case "duration": duration = try Self.int(v, file, "duration", 1...86_400)
        case "iperf3":
            try Self.section(v, file, key, ["streams"]) { k, v in
                iperf3Streams = try Self.int(v, file, "iperf3.\(k)", 1...128)
            }
        case "redis":
            try Self.section(v, file, key, ["requests", "clients", "pipeline"]) { k, v in
                switch k {
                case "requests": redisRequests = try Self.int(v, file, "redis.requests", 1...1_000_000_000)
                case "clients": redisClients = try Self.int(v, file, "redis.clients", 1...10_000)
                default: redisPipeline = try Self.int(v, file, "redis.pipeline", 1...10_000)
                }
            }
        case "stress-ng":
            try Self.section(v, file, key, ["cpus", "method"]) { k, v in
                if k == "cpus" {
                    stressCPUs = try Self.int(v, file, "stress-ng.cpus", 0...4096)
                } else {
                    stressMethod = try Self.word(
                        v, file, "stress-ng.method", #"^[a-z0-9][a-z0-9_-]{0,31}$"#,
                        "a stress-ng CPU method such as all or matrixprod")
                }
            }
        case "pgbench":
            try Self.section(v, file, key, ["scale", "clients", "threads"]) { k, v in
                switch k {
                case "scale": pgbenchScale = try Self.int(v, file, "pgbench.scale", 1...100_000)
                case "clients": pgbenchClients = try Self.int(v, file, "pgbench.clients", 1...10_000)
                default: pgbenchThreads = try Self.int(v, file, "pgbench.threads", 1...1_024)
                }
            }
        case "fio":
            try Self.section(v, file, key, ["size", "rw", "bs", "iodepth", "engine", "direct"]) { k, v in
                try setFIO(k, v, file)
            }
        default:
            throw BenchParameterError(
                file: file, line: k.mark?.line,
                message:
                    "unknown parameter '\(key.prefix(64))'; valid: duration, iperf3, redis, stress-ng, pgbench, fio"
            )
        }
    }

    /// Sets one key of the `fio` section.
    private mutating func setFIO(_ k: String, _ v: Node, _ file: String) throws {
        switch k {
        case "size":
            fioSize = try Self.word(v, file, "fio.size", #"^[1-9][0-9]{0,8}[KMGT]?$"#, "a size such as 512M or 1G")
        case "rw":
            fioRW = try Self.word(
                v, file, "fio.rw", #"^(read|write|randread|randwrite|rw|readwrite|randrw)$"#,
                "one of read, write, randread, randwrite, rw, readwrite, randrw")
        case "bs":
            fioBS = try Self.word(v, file, "fio.bs", #"^[1-9][0-9]{0,6}[kKmM]?$"#, "a block size such as 4k or 1M")
        case "iodepth": fioIODepth = try Self.int(v, file, "fio.iodepth", 1...65_536)
        case "engine":
            fioEngine = try Self.word(
                v, file, "fio.engine", #"^[a-z0-9_]{1,32}$"#, "an fio ioengine such as libaio, io_uring or psync")
        default: fioDirect = try Self.int(v, file, "fio.direct", 0...1)
        }
    }

    static func section(
        _ v: Node, _ file: String, _ name: String, _ keys: [String], _ set: (String, Node) throws -> Void
    ) throws {
        guard let m = v.mapping else {
            throw BenchParameterError(
                file: file, line: v.mark?.line, message: "\(name) must be a mapping of \(keys.joined(separator: ", "))")
        }
        for (k, value) in m {
            let key = k.string ?? ""
            guard keys.contains(key) else {
                throw BenchParameterError(
                    file: file, line: k.mark?.line,
                    message:
                        "unknown parameter '\(name).\(key.prefix(64))'; valid: \(keys.map { "\(name).\($0)" }.joined(separator: ", "))"
                )
            }
            try set(key, value)
        }
    }

    /// A whole number written in ASCII digits, within `range`.
    static func int(_ v: Node, _ file: String, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let s = v.scalar?.string, !s.isEmpty, s.count <= 12, s.allSatisfy({ $0.isASCII && $0.isNumber }),
            let n = Int(s), range.contains(n)
        else {
            throw BenchParameterError(
                file: file, line: v.mark?.line,
                message:
                    "\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\((v.scalar?.string ?? "?").prefix(64))'"
            )
        }
        return n
    }

    static func word(_ v: Node, _ file: String, _ what: String, _ pattern: String, _ valid: String) throws -> String {
        guard let s = v.scalar?.string, s.range(of: pattern, options: .regularExpression) != nil else {
            throw BenchParameterError(
                file: file, line: v.mark?.line,
                message: "\(what) must be \(valid), not '\((v.scalar?.string ?? "?").prefix(64))'")
        }
        return s
    }
}

extension NodeScripts {
    /// The machine-side benchmark script (`Resources/bench/bench-node.sh`), run by `nestlab bench`.
    public static func benchScript() throws -> Data {
        guard let url = Bundle.module.url(forResource: "Resources/bench/bench-node.sh", withExtension: nil),
            let data = FileManager.default.contents(atPath: url.path)
        else {
            throw KubeError.missingScript("bench/bench-node.sh")
        }
        return data
    }
}
