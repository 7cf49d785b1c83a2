import Foundation
import NestlabCore

/// Encodes a value as pretty, key-sorted JSON for `--output json`.
public enum JSONOutput {
    public static func string<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
