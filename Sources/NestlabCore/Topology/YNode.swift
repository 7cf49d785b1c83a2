import Foundation
import Yams

/// A YAML node with the key path that leads to it, for precise diagnostics.
///
/// The topology parser walks Yams' node tree (which keeps every node's line
/// and column) instead of decoding with Codable, so that each finding can say
/// `file:line:col` and name the key.
struct YNode {
    let node: Node
    let path: String
    let file: String
    /// The file's text, to find where an alias was written.
    var text: String = ""
    /// Where the alias that led here was written: every node reached through `*name` is
    /// reported there, not at the anchor (Yams gives such a node the anchor's position).
    var via: FileLocation?

    var location: FileLocation? {
        via ?? node.mark.map { FileLocation(file: file, line: $0.line, column: $0.column) }
    }

    func child(_ key: String, _ value: Node, after keyMark: Mark? = nil) -> YNode {
        YNode(
            node: value, path: path.isEmpty ? key : "\(path).\(key)", file: file, text: text,
            via: via ?? aliasSite(value, after: keyMark, orAt: false))
    }

    func element(_ index: Int, _ value: Node, after previous: Mark? = nil) -> YNode {
        YNode(
            node: value, path: "\(path)[\(index)]", file: file, text: text,
            via: via ?? aliasSite(value, after: previous ?? node.mark, orAt: index > 0))
    }

    /// A list element renamed by its `name` key (`machines.cp` instead of `machines[0]`), for readable key paths.
    func named(under list: String) -> YNode {
        if case .mapping(let m) = node, let n = m["name"]?.scalar?.string, !n.isEmpty, !n.contains(" ") {
            return YNode(node: node, path: "\(list).\(n)", file: file, text: text, via: via)
        }
        return self
    }

    /// Where an alias was written, when `value` was reached through one: a node that sits
    /// before the key (or the list element) it is the value of. Yams gives it the position of
    /// its anchor (`&name`); the alias is the first `*name` after that key or element.
    func aliasSite(_ value: Node, after mark: Mark?, orAt same: Bool) -> FileLocation? {
        guard let v = value.mark, let m = mark else { return nil }
        let before = (v.line, v.column) < (m.line, m.column) || (same && (v.line, v.column) == (m.line, m.column))
        guard before else { return nil }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { Array($0) }
        func token(at i: Int, _ c: Int) -> String {
            String(lines[i][c...].prefix { !$0.isWhitespace && !",[]{}".contains($0) })
        }
        guard v.line - 1 < lines.count, v.column - 1 < lines[v.line - 1].count, lines[v.line - 1][v.column - 1] == "&"
        else {
            return FileLocation(file: file, line: m.line, column: m.column)
        }
        let alias = "*" + token(at: v.line - 1, v.column - 1).dropFirst()
        for i in max(0, m.line - 1)..<lines.count {
            var c = i == m.line - 1 ? min(m.column - 1, lines[i].count) : 0
            while let star = lines[i][c...].firstIndex(of: "*") {
                if token(at: i, star) == alias { return FileLocation(file: file, line: i + 1, column: star + 1) }
                c = star + 1
            }
        }
        return FileLocation(file: file, line: m.line, column: m.column)
    }

    var kindName: String {
        switch node {
        case .scalar(let s): return s.string.isEmpty ? "an empty value" : "the scalar '\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    var isNull: Bool {
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) {
            return true
        }
        return false
    }

    /// The mapping's entries in file order, reporting unknown keys with a did-you-mean.
    func mapping(_ d: inout Diagnostics, keys allowed: [String]) -> [(key: String, value: YNode, keyNode: YNode)]? {
        guard case .mapping(let m) = node else {
            d.error(path, at: location, "expected a mapping, found \(kindName)")
            return nil
        }
        var out: [(String, YNode, YNode)] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                d.error(
                    path, at: YNode(node: k, path: path, file: file, text: text, via: via).location,
                    "keys must be plain strings")
                continue
            }
            let keyNode = YNode(
                node: k, path: path.isEmpty ? ks.string : "\(path).\(ks.string)", file: file, text: text, via: via)
            if !allowed.isEmpty && !allowed.contains(ks.string) {
                let hint: String
                if let near = Spelling.closest(to: ks.string, in: allowed) {
                    hint = "did you mean '\(near)'?"
                } else {
                    hint = "valid keys: \(allowed.joined(separator: ", "))"
                }
                d.error(keyNode.path, at: keyNode.location, "unknown key '\(shown(ks.string))'", hint: hint)
                continue
            }
            out.append((ks.string, child(ks.string, v, after: k.mark), keyNode))
        }
        return out
    }

    /// A mapping that takes no keys (`runc: {}`): every key in it is unknown.
    func emptyMapping(_ d: inout Diagnostics, what: String) {
        for e in mapping(&d, keys: []) ?? [] {
            d.error(
                e.keyNode.path, at: e.keyNode.location, "unknown key '\(shown(e.key))'",
                hint: "\(what) takes no settings; write \(what): {}")
        }
    }

    /// A mapping read into a dictionary, plus the unknown-key check.
    func fields(_ d: inout Diagnostics, keys allowed: [String]) -> Fields? {
        guard let entries = mapping(&d, keys: allowed) else { return nil }
        var dict: [String: YNode] = [:]
        for e in entries { dict[e.key] = e.value }
        return Fields(node: self, values: dict, order: entries.map(\.key))
    }

    func sequence(_ d: inout Diagnostics) -> [YNode]? {
        guard case .sequence(let s) = node else {
            d.error(path, at: location, "expected a list, found \(kindName)")
            return nil
        }
        return s.enumerated().map { element($0.offset, $0.element, after: $0.offset > 0 ? s[$0.offset - 1].mark : nil) }
    }

    func string(_ d: inout Diagnostics) -> String? {
        guard case .scalar(let s) = node else {
            d.error(path, at: location, "expected a string, found \(kindName)")
            return nil
        }
        return s.string
    }

    func nonEmptyString(_ d: inout Diagnostics) -> String? {
        guard let s = string(&d) else { return nil }
        if s.isEmpty {
            d.error(path, at: location, "must not be empty")
            return nil
        }
        return s
    }

    func int(_ d: inout Diagnostics, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let s) = node, s.style == .plain, let n = Int(s.string) else {
            d.error(
                path, at: location, "expected a whole number, found \(kindName)",
                hint: "a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard range.contains(n) else {
            d.error(
                path, at: location, "\(n) is out of range",
                hint: "a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return n
    }

    func bool(_ d: inout Diagnostics) -> Bool? {
        if case .scalar(let s) = node, s.style == .plain {
            if s.string == "true" { return true }
            if s.string == "false" { return false }
        }
        d.error(path, at: location, "expected true or false, found \(kindName)")
        return nil
    }

    func oneOf<E: RawRepresentable & CaseIterable>(_ d: inout Diagnostics, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let s = string(&d) else { return nil }
        if let e = E(rawValue: s) { return e }
        let all = E.allCases.map(\.rawValue)
        var hint = "one of: \(all.joined(separator: ", "))"
        if let near = Spelling.closest(to: s, in: all) { hint = "did you mean '\(near)'? (\(hint))" }
        d.error(path, at: location, "'\(shown(s))' is not valid", hint: hint)
        return nil
    }

    /// A size, at most `max` (every size has a ceiling, so that no sum, product or rounding of
    /// sizes nestlab computes can overflow; docs/topology.md lists the limits).
    func size(_ d: inout Diagnostics, max: ByteSize = ByteSize.largest) -> ByteSize? {
        guard let s = string(&d) else { return nil }
        switch ByteSize.parse(s) {
        case .success(let v):
            if v > max {
                d.error(
                    path, at: location, "'\(s.prefix(64))' is more than nestlab accepts here", hint: "at most \(max)")
                return nil
            }
            return v
        case .failure(let e):
            switch e {
            case .decimalUnit(_, let suggestion):
                d.error(
                    path, at: location, "'\(s)' has an ambiguous unit", hint: "sizes are binary: write '\(suggestion)'")
            case .noUnit:
                d.error(path, at: location, "'\(s)' has no unit", hint: "a size such as 8GiB or 512MiB")
            default:
                d.error(path, at: location, "'\(s)' is not a size", hint: "a size such as 8GiB or 512MiB")
            }
            return nil
        }
    }

    func cpuSet(_ d: inout Diagnostics) -> CPUSet? {
        let text: String
        if case .scalar(let s) = node {
            text = s.string
        } else {
            d.error(path, at: location, "expected a CPU set, found \(kindName)", hint: "a CPU set such as 2-5,8")
            return nil
        }
        switch CPUSet.parse(text) {
        case .success(let set): return set
        case .failure(.reversedRange(let r)):
            d.error(path, at: location, "range '\(r)' runs backwards", hint: "write the lower CPU first, e.g. 2-5")
        case .failure:
            d.error(path, at: location, "'\(text)' is not a CPU set", hint: "a CPU set such as 2-5,8")
        }
        return nil
    }

    func ipv4(_ d: inout Diagnostics) -> IPv4? {
        guard let s = string(&d) else { return nil }
        guard let ip = IPv4(s) else {
            d.error(path, at: location, "'\(s)' is not an IPv4 address", hint: "an address such as 10.77.0.10")
            return nil
        }
        return ip
    }

    func cidr(_ d: inout Diagnostics) -> IPv4Network? {
        guard let s = string(&d) else { return nil }
        switch IPv4Network.parse(s) {
        case .success(let n): return n
        case .failure(.hostBitsSet(_, let net)):
            d.error(path, at: location, "'\(s)' has host bits set", hint: "did you mean '\(net)'?")
        case .failure(.tooSmall):
            d.error(
                path, at: location, "'\(s)' leaves no room for machines",
                hint: "a prefix of /30 or shorter, e.g. 10.77.0.0/24")
        case .failure(.syntax):
            d.error(path, at: location, "'\(s)' is not a CIDR", hint: "a network such as 10.77.0.0/24")
        }
        return nil
    }

    func stringList(_ d: inout Diagnostics) -> [String]? {
        guard let items = sequence(&d) else { return nil }
        var out: [String] = []
        for i in items { if let s = i.nonEmptyString(&d) { out.append(s) } }
        return out
    }
}
