import Foundation
import NestlabCore

/// What the lab's state folder says about the lab itself: `state.json` (mode 0600), written by
/// `up`. It names the topology file the lab was last brought up from (so that `down LAB`,
/// `status LAB` and the other commands can take a lab name), that file's digest, and the hosts
/// `up` connected to.
///
/// The file carries a `version`. A file newer than this nestlab understands is refused
/// (`LabRecordError.newerVersion`) rather than half read. A folder written by an older nestlab
/// holds only `topology-path`; it is read as a version 0 record with the path alone, and the next
/// `save` replaces it with `state.json`.
public struct LabRecord: Codable, Sendable, Equatable {
    /// The version this nestlab writes, and the newest it reads.
    public static let currentVersion = 1

    /// A host the lab's machines are on, with the libvirt URI `up` connected to.
    public struct Host: Codable, Sendable, Equatable {
        public var name: String
        public var libvirt: String

        public init(name: String, libvirt: String) {
            self.name = name
            self.libvirt = libvirt
        }
    }

    public var version: Int
    public var lab: String
    /// The topology file, absolute.
    public var topologyPath: String
    /// SHA-256 of the topology file's bytes when `up` read it (`Topology.digest`); nil in a version 0 record.
    public var topologyDigest: String?
    /// In the topology's order; empty in a version 0 record.
    public var hosts: [Host]
    /// When the record was written (ISO 8601 in the file, whole seconds); nil in a version 0 record.
    public var updatedAt: Date?

    /// A record of the current version; a relative `topologyPath` is made absolute.
    public init(lab: String, topologyPath: String, topologyDigest: String, hosts: [Host], updatedAt: Date) {
        version = Self.currentVersion
        self.lab = lab
        self.topologyPath = URL(fileURLWithPath: topologyPath).standardizedFileURL.path
        self.topologyDigest = topologyDigest
        self.hosts = hosts
        self.updatedAt = updatedAt
    }

    /// The record of a lab brought up from `topologyFile`: the hosts with machines, as connected to.
    public init(session s: LabSession, topologyFile: String, updatedAt: Date = Date()) {
        let hosts = s.topology.hosts.compactMap { h in
            s.sessions[h.name].map { Host(name: h.name, libvirt: $0.host.libvirt) }
        }
        self.init(
            lab: s.lab.name, topologyPath: topologyFile, topologyDigest: s.topology.digest, hosts: hosts,
            updatedAt: updatedAt)
    }

    private init(legacyLab lab: String, topologyPath: String) {
        version = 0
        self.lab = lab
        self.topologyPath = topologyPath
        topologyDigest = nil
        hosts = []
        updatedAt = nil
    }

    /// Every field is required in `state.json` (only a version 0 record, made from `topology-path`, lacks some).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        lab = try c.decode(String.self, forKey: .lab)
        topologyPath = try c.decode(String.self, forKey: .topologyPath)
        topologyDigest = try c.decode(String.self, forKey: .topologyDigest)
        hosts = try c.decode([Host].self, forKey: .hosts)
        updatedAt = try c.decode(Date.self, forKey: .updatedAt)
    }

    // MARK: the file

    /// The lab's record: `state.json`, else (an older nestlab's folder) `topology-path` as version 0,
    /// else nil. Throws `LabRecordError` for a `state.json` that is newer than this nestlab or not valid.
    public static func load(_ state: LabState) throws(LabRecordError) -> LabRecord? {
        let file = state.recordFile
        guard FileManager.default.fileExists(atPath: file.path) else { return legacy(state) }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw .unreadable(file: file.path, problem: "\(error)")
        }
        return try decode(data, file: file.path)
    }

    /// Reads `state.json`'s bytes: the version first (a newer file may have another shape), then the rest.
    static func decode(_ data: Data, file: String) throws(LabRecordError) -> LabRecord {
        struct Version: Decodable { var version: Int }
        let version: Int
        do { version = try JSONDecoder().decode(Version.self, from: data).version } catch {
            throw .malformed(file: file, problem: describe(error))
        }
        if version > currentVersion {
            throw .newerVersion(file: file, version: version, supported: currentVersion)
        }
        guard version >= 1 else {
            throw .malformed(
                file: file, problem: "version \(version) is not one nestlab writes (1 to \(currentVersion))")
        }
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        do { return try d.decode(LabRecord.self, from: data) } catch {
            throw .malformed(file: file, problem: describe(error))
        }
    }

    /// `topology-path` as an older nestlab wrote it: the path, then a newline.
    private static func legacy(_ state: LabState) -> LabRecord? {
        guard let text = try? String(contentsOf: state.legacySourceFile, encoding: .utf8) else { return nil }
        let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : LabRecord(legacyLab: state.name, topologyPath: path)
    }

    /// The bytes of `state.json`: sorted keys, two-space indent, slashes unescaped, a final newline.
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return try e.encode(self) + Data("\n".utf8)
    }

    /// Writes `state.json` (0600, atomically) in the lab's folder, made if missing, and removes the
    /// `topology-path` an older nestlab left there.
    public func save(_ state: LabState) throws {
        try state.create()
        try SecretFile.write(try encoded(), to: state.recordFile)
        if FileManager.default.fileExists(atPath: state.legacySourceFile.path) {
            try FileManager.default.removeItem(at: state.legacySourceFile)
        }
    }

    /// A decoding error as one line: where in the file, and what was wrong there.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func at(_ path: [any CodingKey]) -> String {
            guard !path.isEmpty else { return "the top level" }
            return path.enumerated().map { i, k in
                k.intValue.map { "[\($0)]" } ?? (i == 0 ? k.stringValue : ".\(k.stringValue)")
            }.joined()
        }
        switch e {
        case .keyNotFound(let key, let c):
            return "missing key '\(at(c.codingPath + [key]))'"
        case .typeMismatch(let type, let c):
            return "\(at(c.codingPath)): expected \(type)"
        case .valueNotFound(let type, let c):
            return "\(at(c.codingPath)): null where \(type) was expected"
        case .dataCorrupted(let c):
            // "The given data was not valid JSON." as "the given data was not valid JSON".
            var why = c.debugDescription
            if why.hasSuffix(".") { why.removeLast() }
            why = why.prefix(1).lowercased() + why.dropFirst()
            return c.codingPath.isEmpty ? why : "\(at(c.codingPath)): \(why)"
        @unknown default:
            return "\(e)"
        }
    }
}
