/// A mapping's values by key, keeping the node for locations.
struct Fields {
    let node: YNode
    let values: [String: YNode]
    let order: [String]

    subscript(_ key: String) -> YNode? { values[key].flatMap { $0.isNull ? nil : $0 } }

    func has(_ key: String) -> Bool { values[key] != nil }

    func location(of key: String) -> FileLocation? { values[key]?.location ?? node.location }

    func required(_ key: String, _ d: inout Diagnostics, hint: String) -> YNode? {
        if let v = self[key] { return v }
        d.error(
            node.path.isEmpty ? key : "\(node.path).\(key)", at: node.location, "missing required key '\(key)'",
            hint: hint)
        return nil
    }
}
