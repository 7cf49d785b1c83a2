import Foundation

// MARK: - Charts

/// What plot.py draws for one metric: a bar per series (its ratio to the baseline, with the
/// ratio's 95% interval as error bar) and a line at 1.
public struct BenchChart: Codable, Sendable, Hashable {
    public struct Bar: Codable, Sendable, Hashable {
        public var environment: String
        public var runtime: String
        /// `baseline`, `bare metal`, `nested` or `nested, mitigated` (the bar's colour).
        public var kind: String
        public var ratio: Double
        public var low: Double?
        public var high: Double?
    }

    /// The PNG's file name, e.g. `iperf3-throughput.png`.
    public var file: String
    public var benchmark: String
    public var metric: String
    public var unit: String
    public var title: String
    public var yLabel: String
    public var bars: [Bar]

    /// Letters, digits, `.`, `_` and `-` stay; anything else becomes `_`.
    static func fileStem(_ s: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let out = String(s.map { allowed.contains($0) ? $0 : "_" })
        return out.hasPrefix(".") ? "_" + out.dropFirst() : out
    }

    /// The JSON file plot.py reads: `{"charts": [...], "version": 1}`, keys sorted.
    public static func spec(_ charts: [BenchChart]) throws -> Data {
        struct Spec: Encodable {
            var version = 1
            var charts: [BenchChart]
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(Spec(charts: charts))
    }
}
