public struct BenchParameterError: Error, CustomStringConvertible, Equatable {
    public var file: String
    /// 1-based, as Yams marks it.
    public var line: Int?
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}
