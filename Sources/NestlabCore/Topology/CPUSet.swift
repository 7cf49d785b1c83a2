import Foundation

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
