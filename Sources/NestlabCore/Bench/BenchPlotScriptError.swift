public enum BenchPlotScriptError: Error, CustomStringConvertible {
    /// The package was built without its resources.
    case missing

    public var description: String { "plot.py is missing from nestlab's resources (Resources/bench/plot.py)" }
}
