/// One progress line that the node scripts write to the serial console:
/// `NESTLAB phase=<name> status=<start|ok|failed> detail=<percent-encoded text>`.
///
/// nestlab reads these from the console stream (or the script's output over SSH)
/// to show per-node progress and to say which phase failed and why.
public struct PhaseLine: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable { case start, ok, failed }

    public var phase: String
    public var status: Status
    /// Decoded detail text (empty when the line had none).
    public var detail: String

    public init(phase: String, status: Status, detail: String = "") {
        self.phase = phase
        self.status = status
        self.detail = detail
    }

    public static let prefix = "NESTLAB "

    /// Parses a line; anything before `NESTLAB ` (console noise, timestamps) is skipped.
    /// Returns nil for lines that are not phase lines.
    public static func parse(_ line: Substring) -> PhaseLine? {
        guard let start = line.range(of: prefix) else { return nil }
        var phase: String?
        var status: Status?
        var detail = ""
        for field in line[start.upperBound...].split(separator: " ") {
            let trimmed = field.trimmingSuffix(while: { $0 == "\r" || $0 == "\n" })
            guard let eq = trimmed.firstIndex(of: "=") else { return nil }
            let key = trimmed[..<eq]
            let value = trimmed[trimmed.index(after: eq)...]
            switch key {
            case "phase": phase = String(value)
            case "status": status = Status(rawValue: String(value))
            case "detail":
                guard let d = percentDecode(value) else { return nil }
                detail = d
            default: return nil
            }
        }
        guard let phase, !phase.isEmpty, let status else { return nil }
        return PhaseLine(phase: phase, status: status, detail: detail)
    }

    public static func parse(_ line: String) -> PhaseLine? { parse(line[...]) }

    /// The line as the scripts write it (without the newline).
    public var rendered: String {
        "NESTLAB phase=\(phase) status=\(status.rawValue) detail=\(Self.percentEncode(detail))"
    }

    /// Keeps `A-Za-z0-9 . _ ~ / : -` and encodes every other byte as `%XX`, as lib.sh does.
    public static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let hi = iterator.next(), let lo = iterator.next(),
                    let value = UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
