import Foundation

/// A size in bytes, written in topologies as `8GiB`, `512MiB`.
///
/// Sizes are binary only: `8G` or `8GB` are refused with a hint, because a
/// researcher who writes `8G` for a VM almost always means GiB, and a silent
/// 7% difference in guest memory skews benchmark results.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }
    /// The largest size any topology field takes (64 TiB): far beyond any host, and far enough
    /// below 2^64 that nestlab's arithmetic on sizes (sums over 4096 machines, rounding up to a
    /// page) cannot overflow.
    public static let largest = ByteSize(bytes: 1 << 46)
    /// The most memory one machine may have (16 TiB).
    public static let largestMemory = ByteSize(bytes: 1 << 44)

    public static func kib(_ n: UInt64) -> ByteSize { ByteSize(bytes: n << 10) }
    public static func mib(_ n: UInt64) -> ByteSize { ByteSize(bytes: n << 20) }
    public static func gib(_ n: UInt64) -> ByteSize { ByteSize(bytes: n << 30) }

    public var kib: UInt64 { bytes >> 10 }
    public var gib: UInt64 { bytes >> 30 }
    public var mib: UInt64 { bytes >> 20 }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }

    static let units: [(String, UInt64)] = [
        ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
        ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10), ("B", 1),
    ]

    public enum ParseError: Error, Equatable {
        case empty
        case noUnit(String)
        case decimalUnit(String, suggestion: String)
        case unknownUnit(String)
        case notANumber(String)
        case overflow(String)
    }

    /// Parses `8GiB`, `512MiB`, `4Gi`, `1024B`.
    public static func parse(_ text: String) -> Result<ByteSize, ParseError> {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return .failure(.empty) }
        let digits = s.prefix { $0.isASCII && $0.isNumber }
        let unit = s.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, let n = UInt64(digits) else { return .failure(.notANumber(s)) }
        if unit.isEmpty { return .failure(.noUnit(s)) }
        if let (_, mult) = units.first(where: { $0.0 == unit }) {
            let (r, o) = n.multipliedReportingOverflow(by: mult)
            return o ? .failure(.overflow(s)) : .success(ByteSize(bytes: r))
        }
        let decimal = [
            "K": "KiB", "KB": "KiB", "k": "KiB", "kB": "KiB", "M": "MiB", "MB": "MiB",
            "G": "GiB", "GB": "GiB", "T": "TiB", "TB": "TiB",
        ]
        if let bin = decimal[unit] { return .failure(.decimalUnit(s, suggestion: "\(digits)\(bin)")) }
        return .failure(.unknownUnit(s))
    }

    /// The largest exact binary unit: `8GiB`, `1536MiB`.
    public var description: String {
        for (name, mult) in [("TiB", UInt64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= mult && bytes % mult == 0 {
            return "\(bytes / mult)\(name)"
        }
        return "\(bytes)B"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        self.bytes = try c.decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(bytes)
    }
}
