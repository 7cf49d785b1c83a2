import Foundation
import Testing

@testable import NestlabCore

/// Known answers for Summary, Ratio and the t table, computed by hand (shown in the comments).
@Suite struct BenchStatisticsTests {
    static let tolerance = 1e-4

    static func close(_ a: Double?, _ b: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a else {
            Issue.record("nil, expected \(b)", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(a - b) <= tolerance, "\(a), expected \(b)", sourceLocation: sourceLocation)
    }

    static func close(
        _ r: ClosedRange<Double>?, _ lower: Double, _ upper: Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        close(r?.lowerBound, lower, sourceLocation: sourceLocation)
        close(r?.upperBound, upper, sourceLocation: sourceLocation)
    }

    @Test func oddCount() throws {
        // mean 3; squares of deviations 4+1+0+1+4 = 10, variance 10/4 = 2.5, sd sqrt(2.5) = 1.5811388;
        // se = sd/sqrt(5) = 0.7071068; t(4) = 2.776; half = 1.9629284.
        let s = try #require(Summary([5, 1, 4, 2, 3]))
        #expect(s.count == 5)
        Self.close(s.mean, 3)
        Self.close(s.median, 3)
        Self.close(s.min, 1)
        Self.close(s.max, 5)
        Self.close(s.standardDeviation, 1.5811388)
        Self.close(s.standardError, 0.7071068)
        Self.close(s.ci95, 1.0370716, 4.9629284)
    }

    @Test func evenCount() throws {
        // sorted 1 2 3 4: median (2+3)/2 = 2.5; variance (2.25+0.25+0.25+2.25)/3 = 5/3, sd 1.2909944;
        // se 0.6454972; t(3) = 3.182; half = 2.0539722.
        let s = try #require(Summary([4, 1, 3, 2]))
        Self.close(s.median, 2.5)
        Self.close(s.mean, 2.5)
        Self.close(s.standardDeviation, 1.2909944)
        Self.close(s.ci95, 0.4460278, 4.5539722)
    }

    @Test func oneValue() throws {
        let s = try #require(Summary([42.5]))
        #expect(s.count == 1)
        Self.close(s.mean, 42.5)
        Self.close(s.median, 42.5)
        #expect(s.standardDeviation == 0)
        #expect(s.standardError == 0)
        #expect(s.ci95 == nil)
    }

    @Test func identicalValues() throws {
        let s = try #require(Summary([7, 7, 7]))
        #expect(s.standardDeviation == 0)
        Self.close(s.ci95, 7, 7)
    }

    @Test func noSummaryOfNothingOrNonFinite() {
        #expect(Summary([]) == nil)
        #expect(Summary([1, .nan]) == nil)
        #expect(Summary([1, .infinity]) == nil)
    }

    @Test func ratioWithDeltaMethodInterval() throws {
        // a = 10...14: mean 12, sd sqrt(2.5), se 0.7071068, rse 0.0589256.
        // b = 4, 5, 6: mean 5, sd 1, se 0.5773503, rse 0.1154701.
        // ratio 2.4; rse = sqrt(0.0589256^2 + 0.1154701^2) = 0.1296362;
        // t at min(5, 3) - 1 = 2 df is 4.303; half = 2.4 * 4.303 * 0.1296362 = 1.3387794.
        let a = try #require(Summary([10, 11, 12, 13, 14]))
        let b = try #require(Summary([4, 5, 6]))
        let r = try #require(Ratio(a, over: b))
        Self.close(r.value, 2.4)
        Self.close(r.ci95, 1.0612206, 3.7387794)
        #expect(!r.withinNoise)
    }

    @Test func ratioWithinNoise() throws {
        // a = 100, 104, 96: mean 100, sd 4, se 2.3094011, rse 0.0230940.
        // b = 98, 102, 100: mean 100, sd 2, se 1.1547005, rse 0.0115470.
        // ratio 1; rse 0.0258199; t(2) 4.303; half 0.1111030.
        let a = try #require(Summary([100, 104, 96]))
        let b = try #require(Summary([98, 102, 100]))
        let r = try #require(Ratio(a, over: b))
        Self.close(r.value, 1)
        Self.close(r.ci95, 0.8888970, 1.1111030)
        #expect(r.withinNoise)
    }

    @Test func ratioOfALowerSeries() throws {
        // Baseline first: b / a of the series above is 1/2.4 with the same relative half-width.
        let a = try #require(Summary([10, 11, 12, 13, 14]))
        let b = try #require(Summary([4, 5, 6]))
        let r = try #require(Ratio(b, over: a))
        Self.close(r.value, 0.4166667)
        // half = 0.4166667 * 4.303 * 0.1296362 = 0.2324270
        Self.close(r.ci95, 0.1842397, 0.6490937)
        #expect(!r.withinNoise)
    }

    @Test func ratioWithoutInterval() throws {
        let one = try #require(Summary([3]))
        let many = try #require(Summary([1, 2, 3]))
        let r = try #require(Ratio(one, over: many))
        Self.close(r.value, 1.5)
        #expect(r.ci95 == nil)
        #expect(!r.withinNoise)
        #expect(Ratio(many, over: try #require(Summary([-1, 0, 1]))) == nil)
    }

    @Test func tTable() {
        Self.close(Statistics.t95(degreesOfFreedom: 1), 12.706)
        Self.close(Statistics.t95(degreesOfFreedom: 4), 2.776)
        Self.close(Statistics.t95(degreesOfFreedom: 30), 2.042)
        Self.close(Statistics.t95(degreesOfFreedom: 40), 2.021)
        Self.close(Statistics.t95(degreesOfFreedom: 60), 2.000)
        Self.close(Statistics.t95(degreesOfFreedom: 120), 1.980)
        Self.close(Statistics.t95(degreesOfFreedom: 10_000), 1.960)
        // Between rows, the lower row's value: never a narrower interval than the truth
        // (t_{0.975,31} = 2.040, t_{0.975,121} = 1.980).
        Self.close(Statistics.t95(degreesOfFreedom: 31), 2.042)
        Self.close(Statistics.t95(degreesOfFreedom: 59), 2.021)
        Self.close(Statistics.t95(degreesOfFreedom: 121), 1.980)
    }
}
