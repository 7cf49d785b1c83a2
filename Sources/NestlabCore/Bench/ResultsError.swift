public enum ResultsError: Error, CustomStringConvertible, Equatable {
    case badLine(file: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .badLine(let f, let l, let r): return "\(f):\(l): not a results sample: \(r)"
        }
    }
}
