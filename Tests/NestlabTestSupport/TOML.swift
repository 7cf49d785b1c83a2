import Foundation
import Spawn

/// Parses a TOML file with Python's tomllib (an independent TOML 1.0 parser) and returns the
/// JSON object. Tables are `[String: Any]`, arrays `[Any]`, strings `String`, and integers,
/// floats and booleans `NSNumber` (`TOMLKind.of` tells them apart).
public func parseTOML(_ path: String) throws -> [String: Any] {
    let result = try SpawnedProcess.run([
        "/usr/bin/python3", "-c",
        "import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))))", path,
    ])
    guard result.status == 0 else { throw TOMLParseFailure(message: result.errors) }
    let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
    guard let dict = object as? [String: Any] else { throw TOMLParseFailure(message: "not a table") }
    return dict
}

public struct TOMLParseFailure: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "TOML does not parse: \(message)" }
}

/// The TOML type of a value `parseTOML` returned.
public enum TOMLKind: String, Sendable {
    case string, integer, float, boolean, array, table, other

    /// "a string", "an integer", ...
    public var withArticle: String {
        ["integer", "array", "other"].contains(rawValue) ? "an \(rawValue)" : "a \(rawValue)"
    }

    public static func of(_ value: Any) -> TOMLKind {
        switch value {
        case is String: return .string
        case is [String: Any]: return .table
        case is [Any]: return .array
        case let n as NSNumber:
            // JSONSerialization gives a boolean as the shared true/false NSNumber (CFBoolean);
            // `as? Bool` would also take the integers 0 and 1, so identity decides.
            if n === NSNumber(value: true) || n === NSNumber(value: false) { return .boolean }
            return ["d", "f"].contains(String(cString: n.objCType)) ? .float : .integer
        default: return .other
        }
    }
}
