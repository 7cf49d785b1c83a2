import Foundation

/// The chart script shipped as a package resource (`Resources/bench/plot.py`).
public enum BenchPlotScript {
    public static func url() throws -> URL {
        guard let url = Bundle.module.url(forResource: "Resources/bench/plot.py", withExtension: nil) else {
            throw BenchPlotScriptError.missing
        }
        return url
    }
}
