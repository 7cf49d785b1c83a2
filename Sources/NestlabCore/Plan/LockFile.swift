import Foundation

/// The lock file next to a topology (`NAME.lock`): resolved URLs and digests, so
/// that a testbed can be rebuilt identically a year later.
public struct LockFile: Sendable, Codable, Hashable {
    public struct Entry: Sendable, Codable, Hashable {
        public var name: String
        public var url: String
        public var sha256: String
        public var size: UInt64?

        public init(name: String, url: String, sha256: String, size: UInt64?) {
            self.name = name
            self.url = url
            self.sha256 = sha256
            self.size = size
        }
    }

    public var lockVersion: Int = 1
    public var artifacts: [Entry]

    public init(artifacts: [Entry]) { self.artifacts = artifacts.sorted { $0.name < $1.name } }

    public static func path(forTopology file: String) -> String {
        let u = URL(fileURLWithPath: file)
        let base = u.deletingPathExtension().lastPathComponent
        return u.deletingLastPathComponent().appendingPathComponent("\(base).lock").path
    }

    public static func load(forTopology file: String) throws -> LockFile? {
        let p = path(forTopology: file)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        do {
            return try JSONDecoder().decode(LockFile.self, from: Data(contentsOf: URL(fileURLWithPath: p)))
        } catch {
            throw LockError.unreadable(p, "\(error)")
        }
    }

    public func entry(_ name: String) -> Entry? { artifacts.first { $0.name == name } }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var d = try e.encode(self)
        d.append(0x0A)
        return d
    }

    public var digest: String { Identity.hex((try? encoded()) ?? Data()) }
}
