import Foundation
import Yams

/// A YAML document built from typed values, emitted by Yams.
///
/// Strings that a YAML reader would take for another type (`true`, `0644`,
/// `1.30`, `null`) are quoted automatically, so what is written reads back as
/// exactly the same string.
public indirect enum YAMLValue: Sendable, Hashable {
    case string(String)
    /// A string always written in double quotes (MAC addresses, which YAML 1.1 readers may take for numbers).
    case quoted(String)
    /// A multi-line string written as a literal block (`|`).
    case block(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    /// A list written inline: `[a, b]`.
    case flowList([YAMLValue])
    case map([YAMLPair])

    public static func map(_ pairs: [(String, YAMLValue)]) -> YAMLValue {
        .map(pairs.map { YAMLPair(key: $0.0, value: $0.1) })
    }

    public var node: Node {
        switch self {
        case .string(let s):
            // One quoting rule for every YAML nestlab writes (cloud-init, kubeadm, manifests).
            if Self.hasOuterWhitespace(s) { return .scalar(.init(s, YAMLBuilder.tag(.str), .doubleQuoted)) }
            return YAMLBuilder.str(s)
        case .quoted(let s):
            return .scalar(.init(s, YAMLBuilder.tag(.str), .doubleQuoted))
        case .block(let s):
            return .scalar(.init(s, YAMLBuilder.tag(.str), s.contains("\n") ? .literal : .any))
        case .int(let n):
            return .scalar(.init(String(n), YAMLBuilder.tag(.int), .plain))
        case .bool(let b):
            return .scalar(.init(b ? "true" : "false", YAMLBuilder.tag(.bool), .plain))
        case .list(let items):
            return .sequence(.init(items.map(\.node), YAMLBuilder.tag(.seq), .block))
        case .flowList(let items):
            return .sequence(.init(items.map(\.node), YAMLBuilder.tag(.seq), .flow))
        case .map(let pairs):
            return .mapping(
                .init(pairs.map { (YAMLValue.string($0.key).node, $0.value.node) }, YAMLBuilder.tag(.map), .block))
        }
    }

    /// Whether `s` starts or ends with whitespace (`s != s.trimmingCharacters(in: .whitespaces)`,
    /// without building the trimmed copy).
    static func hasOuterWhitespace(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        return CharacterSet.whitespaces.contains(first) || CharacterSet.whitespaces.contains(last)
    }

    /// The value as a YAML document (without `---`), ending in a newline.
    public func emit() -> String {
        do {
            return try Yams.serialize(node: node, indent: 2, width: -1, allowUnicode: true, sortKeys: false)
        } catch {
            // A tree of scalars, lists and maps always serializes; keep the reason if it ever does not.
            preconditionFailure("YAML emitter failed: \(error)")
        }
    }
}
