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

/// A set of host CPU numbers, written as `2-5,8`.
public struct CPUSet: Sendable, Hashable, CustomStringConvertible, Sequence, Codable {
    public private(set) var cpus: [Int]  // sorted, unique

    public init<S: Sequence>(_ cpus: S) where S.Element == Int {
        self.cpus = Array(Set(cpus)).sorted()
    }

    public static let empty = CPUSet([])

    public var count: Int { cpus.count }
    public var isEmpty: Bool { cpus.isEmpty }
    public func makeIterator() -> IndexingIterator<[Int]> { cpus.makeIterator() }
    public func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }
    public func intersection(_ other: CPUSet) -> CPUSet { CPUSet(Set(cpus).intersection(other.cpus)) }
    public func union(_ other: CPUSet) -> CPUSet { CPUSet(cpus + other.cpus) }
    public func subtracting(_ other: CPUSet) -> CPUSet { CPUSet(Set(cpus).subtracting(other.cpus)) }
    public func isSubset(of other: CPUSet) -> Bool { Set(cpus).isSubset(of: other.cpus) }

    public enum ParseError: Error, Equatable {
        case empty
        case badElement(String)
        case reversedRange(String)
    }

    /// Parses `2-5,8`; spaces around elements are allowed.
    public static func parse(_ text: String) -> Result<CPUSet, ParseError> {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return .failure(.empty) }
        var out: [Int] = []
        for raw in s.split(separator: ",", omittingEmptySubsequences: false) {
            let part = raw.trimmingCharacters(in: .whitespaces)
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            switch bounds.count {
            case 1:
                guard let n = Int(bounds[0]), n >= 0, n < 65536 else { return .failure(.badElement(part)) }
                out.append(n)
            case 2:
                guard let a = Int(bounds[0]), let b = Int(bounds[1]), a >= 0, b < 65536 else {
                    return .failure(.badElement(part))
                }
                guard a <= b else { return .failure(.reversedRange(part)) }
                out.append(contentsOf: a...b)
            default:
                return .failure(.badElement(part))
            }
        }
        return .success(CPUSet(out))
    }

    /// Canonical form: consecutive runs collapse into ranges (`0-3,5,7-8`).
    public var description: String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(i == j ? "\(cpus[i])" : "\(cpus[i])-\(cpus[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        switch CPUSet.parse(s) {
        case .success(let set): self = set
        case .failure: throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad cpu set \(s)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An IPv4 address.
public struct IPv4: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt32(p), n <= 255
            else {
                return nil
            }
            v = v << 8 | n
        }
        value = v
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }

    public static func < (a: IPv4, b: IPv4) -> Bool { a.value < b.value }

    public static func + (a: IPv4, n: Int) -> IPv4 { IPv4(UInt32(truncatingIfNeeded: Int(a.value) + n)) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let ip = IPv4(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad address \(s)")
        }
        self = ip
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An IPv4 network, written `10.77.0.0/24`.
public struct IPv4Network: Sendable, Hashable, CustomStringConvertible, Codable {
    public var address: IPv4
    public var prefix: Int

    public init(address: IPv4, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    public enum ParseError: Error, Equatable {
        case syntax(String)
        case hostBitsSet(String, network: String)
        case tooSmall(String)
    }

    public static func parse(_ text: String) -> Result<IPv4Network, ParseError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPv4(String(parts[0])), let p = Int(parts[1]), (0...32).contains(p) else {
            return .failure(.syntax(text))
        }
        let net = IPv4Network(address: ip, prefix: p)
        if net.networkAddress != ip {
            return .failure(.hostBitsSet(text, network: "\(net.networkAddress)/\(p)"))
        }
        if p > 30 { return .failure(.tooSmall(text)) }
        return .success(net)
    }

    public var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }
    public var networkAddress: IPv4 { IPv4(address.value & mask) }
    public var broadcast: IPv4 { IPv4(address.value | ~mask) }
    public var netmask: IPv4 { IPv4(mask) }
    /// The first usable address, which nestlab uses as the gateway by default.
    public var firstHost: IPv4 { networkAddress + 1 }
    public var lastHost: IPv4 { broadcast + -1 }

    public func contains(_ ip: IPv4) -> Bool { ip.value & mask == networkAddress.value }

    public func overlaps(_ other: IPv4Network) -> Bool {
        let m = prefix < other.prefix ? mask : other.mask
        return address.value & m == other.address.value & m
    }

    public var description: String { "\(networkAddress)/\(prefix)" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard case .success(let n) = IPv4Network.parse(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "bad cidr \(s)")
        }
        self = n
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
