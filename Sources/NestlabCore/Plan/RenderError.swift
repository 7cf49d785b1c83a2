public enum RenderError: Error, CustomStringConvertible {
    case missingBase(machine: String, image: String, host: String)

    public var description: String {
        switch self {
        case .missingBase(let m, let i, let h):
            return "no base image '\(i)' resolved on host '\(h)' for machine '\(m)'"
        }
    }
}
