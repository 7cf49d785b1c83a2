/// One file to put on a node.
public struct NodeFile: Sendable, Hashable {
    /// Absolute path on the node.
    public var path: String
    /// Permission bits, for example `0o644`; secrets are `0o600`.
    public var mode: UInt16
    public var content: [UInt8]

    public init(path: String, mode: UInt16, content: [UInt8]) {
        self.path = path
        self.mode = mode
        self.content = content
    }

    public init(path: String, mode: UInt16, text: String) {
        self.init(path: path, mode: mode, content: Array(text.utf8))
    }

    /// The content as UTF-8 text.
    public var text: String { String(decoding: content, as: UTF8.self) }
    /// `"0644"`, the form cloud-init's write_files `permissions` takes.
    public var octalMode: String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
