import Foundation

// MARK: - Numbers

/// Locale-free, deterministic number formatting.
public enum BenchFormat {
    /// `digits` significant digits (4: 0.9512, 12.35, 1235); integer digits are never rounded
    /// away (123456 stays 123456).
    public static func significant(_ v: Double, digits: Int = 4) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == 0 { return "0" }
        let exponent = Int(floor(log10(abs(v))))
        let decimals = min(15, max(0, digits - 1 - exponent))
        let text = fixed(v, decimals: decimals)
        // Rounding up to the next power of ten (9.9996 -> 10.000) gives one digit too many.
        if decimals > 0, text.filter(\.isNumber).drop(while: { $0 == "0" }).count > digits {
            return fixed(v, decimals: decimals - 1)
        }
        return text
    }

    /// `decimals` digits after the point, rounded half away from zero; no "-0".
    public static func fixed(_ v: Double, decimals: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(v) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return "\(v)" }
        let n = Int64(scaled)
        var digits = String(n)
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (v < 0 && n != 0 ? "-" : "") + digits
    }

    /// `[low, high]`, or `[n/a]` without an interval.
    public static func interval(_ r: ClosedRange<Double>?) -> String {
        guard let r else { return "[n/a]" }
        return "[\(significant(r.lowerBound)), \(significant(r.upperBound))]"
    }

    /// `0.9512 [0.9301, 0.9723]`.
    public static func ratio(_ r: Ratio?) -> String {
        guard let r else { return "n/a" }
        return significant(r.value) + " " + interval(r.ci95)
    }

    /// What a ratio means for a metric of this direction: `4.9% worse`, `2.0% better` or
    /// `within the noise` (its 95% interval contains 1).
    public static func verdict(_ r: Ratio?, _ direction: BenchSample.Direction) -> String {
        guard let r else { return "n/a" }
        if r.withinNoise { return "within the noise" }
        let change = direction == .higher ? r.value - 1 : 1 - r.value
        let text = fixed(abs(change) * 100, decimals: 1) + "% " + (change >= 0 ? "better" : "worse")
        // No interval: a series with one repetition, or a mean of 0 (no relative error exists).
        return r.ci95 == nil ? text + " (no CI: one repetition, or a mean of 0)" : text
    }
}
