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
