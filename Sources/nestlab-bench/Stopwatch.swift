import Foundation

/// Wall-clock and process-CPU laps.
struct Stopwatch {
    private var wall = ContinuousClock.now
    private var cpu = Stopwatch.cpuNow()

    mutating func lap() -> Double {
        let now = ContinuousClock.now
        let d = now - wall
        wall = now
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    mutating func cpuLap() -> Double {
        let now = Self.cpuNow()
        defer { cpu = now }
        return now - cpu
    }

    static func cpuNow() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(
            u.ru_stime.tv_usec) / 1e6
    }
}
