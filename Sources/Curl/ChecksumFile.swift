import Foundation

/// Parses checksum files: GNU `sha256sum` lines (`HEX  name`, `HEX *name`), BSD lines
/// (`SHA256 (name) = HEX`), and a lone `HEX` (a single-file `.sha256`).
enum ChecksumFile {
    struct Entry: Equatable {
        var digest: String
        var name: String?
    }

    static func entries(in text: String, url: String) throws(CurlError) -> [Entry] {
        var entries: [Entry] = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("SHA256 ("), let close = line.range(of: ") = ", options: .backwards) {
                let name = String(line[line.index(line.startIndex, offsetBy: 8)..<close.lowerBound])
                let digest = String(line[close.upperBound...])
                guard SHA256Digest.isDigest(digest) else {
                    throw .invalidChecksumFile(
                        url: url, reason: "line \(lineNumber): '\(digest)' is not a sha256 digest")
                }
                entries.append(Entry(digest: digest.lowercased(), name: name))
                continue
            }
            let digest = line.prefix { !$0.isWhitespace }
            guard SHA256Digest.isDigest(digest) else {
                throw .invalidChecksumFile(
                    url: url, reason: "line \(lineNumber) does not start with a 64-character sha256 digest")
            }
            var name = line.dropFirst(digest.count).trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("*") { name.removeFirst() }  // binary-mode marker
            entries.append(Entry(digest: digest.lowercased(), name: name.isEmpty ? nil : name))
        }
        guard !entries.isEmpty else { throw .invalidChecksumFile(url: url, reason: "it lists no digests") }
        return entries
    }

    /// The digest for `fileName`: the entry with that name (or base name), or the only entry
    /// when the file is a lone digest.
    static func digest(for fileName: String, in text: String, url: String) throws(CurlError) -> String {
        let all = try entries(in: text, url: url)
        if all.count == 1, all[0].name == nil { return all[0].digest }
        let matches = all.filter { entry in
            guard let name = entry.name else { return false }
            let cleaned = name.hasPrefix("./") ? String(name.dropFirst(2)) : name
            return cleaned == fileName || cleaned.split(separator: "/").last.map(String.init) == fileName
        }
        let digests = Set(matches.map(\.digest))
        guard let digest = digests.first else { throw .checksumNotListed(checksumsURL: url, fileName: fileName) }
        guard digests.count == 1 else {
            throw .invalidChecksumFile(url: url, reason: "it lists '\(fileName)' with different digests")
        }
        return digest
    }
}
