import Foundation

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
