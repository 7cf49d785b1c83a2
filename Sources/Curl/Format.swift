import Foundation

/// Human-readable numbers for progress lines (and, `bytes`, for nestlab's cache listings).
public enum Format {
    /// `512 B`, `1.5 KiB`, `3.2 GiB`: binary units, one decimal.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    static func rate(_ bytesPerSecond: Double) -> String {
        bytes(Int64(bytesPerSecond.isFinite ? bytesPerSecond : 0)) + "/s"
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1fs", duration.seconds)
    }

    /// `m:ss`, or `h:mm:ss` past an hour.
    static func clock(_ duration: Duration) -> String {
        let total = max(0, Int(duration.seconds.rounded()))
        let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, seconds)
            : String(format: "%d:%02d", minutes, seconds)
    }

    static func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(1, width - 1))) + "…"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
