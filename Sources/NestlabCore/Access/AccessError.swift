public enum AccessError: Error, CustomStringConvertible, Equatable {
    case unquotable(what: String, value: String)

    public var description: String {
        switch self {
        case .unquotable(let what, let value):
            return
                "the \(what) (\(value.debugDescription)) cannot be written into an SSH config: it is empty or holds a double quote or a line break"
        }
    }
}
