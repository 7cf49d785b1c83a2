/// Summary statistics of repeated measurements, and ratios between two series.
///
/// The 95% confidence interval is Student's t interval of the mean (two-sided), which is
/// what a handful of repetitions (the default 5) supports; with one value there is none.
/// A ratio's interval propagates both series' relative standard errors (the delta method:
/// rse(a/b)^2 = rse(a)^2 + rse(b)^2), with t at the smaller of the two degrees of freedom.
public struct Summary: Sendable, Hashable {
    public var count: Int
    public var mean: Double
    public var median: Double
    public var min: Double
    public var max: Double
    /// Sample standard deviation (n − 1); 0 for one value.
    public var standardDeviation: Double
    /// The 95% interval of the mean; nil below two values.
    public var ci95: ClosedRange<Double>?

    public init?(_ values: [Double]) {
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        mean = sorted.reduce(0, +) / Double(count)
        median = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
        min = sorted[0]
        max = sorted[count - 1]
        if count > 1 {
            let m = mean
            let variance = sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(count - 1)
            standardDeviation = variance.squareRoot()
            let half = Statistics.t95(degreesOfFreedom: count - 1) * standardDeviation / Double(count).squareRoot()
            ci95 = (mean - half)...(mean + half)
        } else {
            standardDeviation = 0
            ci95 = nil
        }
    }

    /// Standard error of the mean.
    public var standardError: Double { count > 1 ? standardDeviation / Double(count).squareRoot() : 0 }
}
