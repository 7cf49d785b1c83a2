import Foundation
import Libvirt
import NestlabCore
import NestlabKit

/// `nestlab-bench updown N [--repeat R] [--noops K]`: nestlab's own time for `up` and `down` of an
/// N-machine lab against libvirt's test driver (an in-process fake host, so nearly all
/// the time measured is nestlab's: planning, rendering, seeds, bookkeeping).
///
/// Each repetition starts from a fresh fake host and a fresh temp folder; the figures
/// are medians. Wall time and process CPU time (user + system) are both shown: `up`
/// prepares machines in parallel, so wall time can be lower than CPU time. With `--noops K`,
/// each repetition runs the no-op `up` K times and keeps their median (and a profile of the
/// run is mostly no-ops).
func benchUpDown(_ args: [String]) async throws {
    var n: Int?
    var repeats = 3
    var noops = 1
    var it = args.makeIterator()
    while let a = it.next() {
        if a == "--repeat", let v = it.next().flatMap(Int.init), v >= 1 {
            repeats = v
            continue
        }
        if a == "--noops", let v = it.next().flatMap(Int.init), v >= 1 {
            noops = v
            continue
        }
        if let v = Int(a), n == nil {
            n = v
            continue
        }
        n = nil
        break
    }
    // A test-driver pool holds 100 GiB and counts an overlay at its full size (1 GiB at least), so
    // the lab has one fake host per 100 machines (each a test driver of its own node file).
    guard let n, (1...10_000).contains(n) else {
        print(
            "usage: nestlab-bench updown N [--repeat R] [--noops K]   (N machines, 1 to 10000; one test-driver host per 100; K no-op ups per repetition)"
        )
        exit(2)
    }

    var samples: [UpDownSample] = []
    for _ in 0..<repeats {
        let run = try UpDownRun(machines: n)
        defer { run.cleanUp() }
        samples.append(try await run.measure(noops: noops))
    }
    func median(_ f: (UpDownSample) -> Double) -> Double { Summary(samples.map(f))?.median ?? .nan }
    let d = Double(n)
    func ms(_ s: Double) -> String { String(format: "%.2f", s * 1000) }
    func perMachine(_ wall: Double, _ cpu: Double) -> String {
        "\(ms(wall)) ms wall, \(ms(cpu)) ms cpu = \(ms(wall / d)) ms wall, \(ms(cpu / d)) ms cpu per machine"
    }
    print("updown N=\(n), median of \(repeats):")
    print(
        "  up   (open + converge):        " + perMachine(median { $0.open + $0.up }, median { $0.openCPU + $0.upCPU }))
    print("    of which open (parse, connect, render): " + perMachine(median(\.open), median(\.openCPU)))
    print(
        "  no-op up (open + plan, nothing to do\(noops > 1 ? ", median of \(noops) per repetition" : "")): \(ms(median(\.noop))) ms wall, \(ms(median(\.noopCPU))) ms cpu"
            + " = \(ms(median(\.noop) / d)) ms per machine")
    print("  down (parse, connect, remove): " + perMachine(median(\.down), median(\.downCPU)))
}
