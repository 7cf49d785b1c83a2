struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
