/// A problem with the samples that makes a report impossible.
public enum BenchReportError: Error, CustomStringConvertible, Equatable {
    /// There are no samples at all.
    case noSamples
    /// No sample was taken in the baseline environment.
    case unknownBaseline(String, present: [String])
    /// Samples of one metric disagree on its unit or direction, so no ratio means anything.
    case inconsistentMetrics([String])

    public var description: String {
        switch self {
        case .noSamples:
            return "no samples: the results files are empty"
        case .unknownBaseline(let b, let present):
            return "no samples from the baseline environment '\(b)'; environments present: "
                + present.joined(separator: ", ")
        case .inconsistentMetrics(let problems):
            return "samples of a metric disagree:\n" + problems.map { "  " + $0 }.joined(separator: "\n")
        }
    }
}
