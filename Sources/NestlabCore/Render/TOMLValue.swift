/// A TOML value of the kinds nestlab emits (containerd, Kata and urunc configs).
///
/// Only what we need: no dates, no floats, no inline tables. Every string goes
/// through ``TOMLWriter/quote(_:)``, the one escaping function.
public enum TOMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case array([TOMLValue])
}
