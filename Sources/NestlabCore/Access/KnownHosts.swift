/// The lab's known_hosts: one line per key, every name and address it is reached by.
public enum KnownHosts {
    public struct Entry: Sendable, Hashable {
        /// Names and addresses; a port other than 22 is written `[name]:port`.
        public var names: [String]
        public var port: Int
        /// `TYPE BASE64`, without a comment.
        public var key: String

        public init(names: [String], port: Int = 22, key: String) {
            self.names = names
            self.port = port
            self.key = key
        }
    }

    public static func render(_ entries: [Entry]) -> String {
        entries.map { e in
            let names = e.names.map { e.port == 22 ? $0 : "[\($0)]:\(e.port)" }
            return names.joined(separator: ",") + " " + e.key + "\n"
        }.joined()
    }
}
