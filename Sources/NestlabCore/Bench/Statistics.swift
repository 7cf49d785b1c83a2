import Foundation

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
