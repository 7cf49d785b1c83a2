import Foundation

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

/// A series as a ratio to a baseline series (`value / baseline`), with its 95% interval.
public struct Ratio: Sendable, Hashable {
    public var value: Double
    public var ci95: ClosedRange<Double>?

    /// nil when the baseline's mean is 0 (no ratio exists).
    public init?(_ a: Summary, over b: Summary) {
        guard b.mean != 0 else { return nil }
        value = a.mean / b.mean
        if a.count > 1, b.count > 1, a.mean != 0 {
            let rse =
                ((a.standardError / a.mean) * (a.standardError / a.mean) + (b.standardError / b.mean)
                    * (b.standardError / b.mean))
                .squareRoot()
            let t = Statistics.t95(degreesOfFreedom: Swift.min(a.count, b.count) - 1)
            let half = abs(value) * t * rse
            ci95 = (value - half)...(value + half)
        } else {
            ci95 = nil
        }
    }

    /// Whether 1 (no difference) lies inside the interval: the difference is within the noise.
    public var withinNoise: Bool { ci95.map { $0.contains(1) } ?? false }
}

public enum Statistics {
    /// Two-sided 95% quantiles of Student's t (t_{0.975, df}), df 1...30; beyond, the table's 40,
    /// 60 and 120 rows and the normal's 1.96. Between rows the lower row's (larger) value is
    /// taken, so an interval is never narrower than it should be.
    static let tTable: [Double] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ]

    public static func t95(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1, "t needs at least one degree of freedom")
        if df <= 30 { return tTable[df - 1] }
        if df < 40 { return 2.042 }
        if df < 60 { return 2.021 }
        if df < 120 { return 2.000 }
        if df < 1_000 { return 1.980 }
        return 1.960
    }
}
