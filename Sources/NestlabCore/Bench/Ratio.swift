import Foundation

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
