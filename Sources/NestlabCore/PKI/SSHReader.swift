import Foundation

/// Reads SSH wire-format data, failing cleanly on truncated input.
struct SSHReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bytes(count: Int) throws(SSHKeyError) -> [UInt8] {
        guard count >= 0, bytes.count - offset >= count else { throw .malformed("the data ends early") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func uint32() throws(SSHKeyError) -> UInt32 {
        try bytes(count: 4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string() throws(SSHKeyError) -> [UInt8] {
        let count = try uint32()
        guard count <= UInt32(Int32.max) else { throw .malformed("a length field is too large") }
        return try bytes(count: Int(count))
    }
}
