import Foundation

/// Reading and writing `results.jsonl`: one JSON object per line, keys sorted, times in
/// RFC 3339 UTC with milliseconds, so that the same samples give the same bytes.
public enum ResultsFile {
    public static let name = "results.jsonl"

    /// A new formatter each time (formatters are not Sendable; samples are few).
    static var formatter: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatter.string(from: date))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = formatter.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "not an RFC 3339 time with milliseconds: \(text)")
            }
            return date
        }
        return d
    }

    /// One line (with its newline) for a sample.
    public static func line(_ s: BenchSample) throws -> String {
        String(decoding: try encoder().encode(s), as: UTF8.self) + "\n"
    }

    /// Parses a results.jsonl; an unreadable line is an error naming the file and line.
    public static func parse(_ text: String, file: String) throws -> [BenchSample] {
        var out: [BenchSample] = []
        let d = decoder()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            do {
                let s = try d.decode(BenchSample.self, from: Data(t.utf8))
                guard s.schemaVersion == BenchSample.currentSchemaVersion else {
                    throw ResultsError.badLine(
                        file: file, line: i + 1,
                        reason:
                            "schemaVersion \(s.schemaVersion); this nestlab reads \(BenchSample.currentSchemaVersion)")
                }
                out.append(s)
            } catch let e as ResultsError {
                throw e
            } catch {
                throw ResultsError.badLine(file: file, line: i + 1, reason: "\(error)")
            }
        }
        return out
    }
}
