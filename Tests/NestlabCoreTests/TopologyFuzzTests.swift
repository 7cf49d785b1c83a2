import Foundation
import Testing

@testable import NestlabCore

/// Issue 21: a seeded fuzz test of the topology language. It mutates the shipped topologies
/// (deletes, duplicates and swaps lines, replaces scalars with edge values, mangles
/// indentation) and reads each mutant as `validate` does, then resolves what it accepts as
/// `plan --offline` does. No mutant may crash (a trap ends this whole test process, which
/// fails the tier), take more than 2 s, or be refused without a line number.
///
/// `NESTLAB_FUZZ_SEED=N` replays a run; `NESTLAB_FUZZ_COUNT` changes the number of mutants.
@Suite struct TopologyFuzzTests {
    /// SplitMix64: small, fast, and the same sequence everywhere for a seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    /// Values that have broken parsers: huge and negative numbers in every unit, empty, Unicode
    /// digits, very long, YAML's special scalars, and unset variables.
    static let edgeValues = [
        "18446744073709551616", "18446744073709551615", "9223372036854775808", "99999999999999999999GiB",
        "18446744073709551615GiB", "17179869184TiB", "16777216TiB", "18446744073709551615B", "16777215TiB",
        "17592186044416MiB",
        "70368744177665B", "6148914691236517205B", "4294967296", "2147483648", "-1", "-9223372036854775808",
        "0", "0MiB", "1B", "", "\"\"", "~", "null", "[]", "{}", "[[[[[[", "{a: [", "1e309", "0x10", "0o17", ".nan",
        "-.inf",
        "١٢٣", "１２GiB", "٣GiB", "𝟙𝟚", "\u{202E}abc", "\u{0}", "é", String(repeating: "a", count: 10_000),
        String(repeating: "9", count: 400), "${NESTLAB_FUZZ_UNSET}", "${NESTLAB_FUZZ_UNSET:-}", "$(reboot)",
        "'; rm -rf /'",
        "0-99999999", "0-18446744073709551615", "1,1,1,1", "99999-0", "255.255.255.255/33", "10.0.0.0/0", "1.2.3.4.5",
        "999.1.1.1", "::1", "*", "&anchor x", "*nope", "!!binary AAAA", "latest", "../../etc/passwd", "1.0/../../",
    ]

    static func mutate(_ lines: [Substring], _ r: inout Random) -> String {
        var l = lines.map(String.init)
        guard !l.isEmpty else { return "" }
        for _ in 0...r.below(3) {
            let i = r.below(l.count)
            switch r.below(6) {
            case 0: l.remove(at: i)
            case 1: l.insert(l[i], at: i)
            case 2:
                let j = r.below(l.count)
                l.swapAt(i, j)
            case 3, 4:
                // Replace the scalar after a key (or a list item) with an edge value; mostly on a
                // line that has a key, where a value is read.
                let keyed = l.indices.filter { l[$0].contains(": ") }
                let i = !keyed.isEmpty && r.below(4) > 0 ? keyed[r.below(keyed.count)] : i
                let v = edgeValues[r.below(edgeValues.count)]
                if let colon = l[i].range(of: ": ") {
                    l[i] = String(l[i][..<colon.upperBound]) + v
                } else if let dash = l[i].range(of: "- ") {
                    l[i] = String(l[i][..<dash.upperBound]) + v
                } else {
                    l[i] += " " + v
                }
            default:
                // Indentation: add or remove spaces, or a tab.
                switch r.below(3) {
                case 0: l[i] = "  " + l[i]
                case 1: l[i] = String(l[i].drop { $0 == " " })
                default: l[i] = "\t" + l[i]
                }
            }
            if l.isEmpty { break }
        }
        return l.joined(separator: "\n") + "\n"
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func topologies() throws -> [(String, [Substring])] {
        let dir = Fixtures.repo.appendingPathComponent("topologies")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
            .map {
                (
                    $0,
                    try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8).split(
                        separator: "\n", omittingEmptySubsequences: false)
                )
            }
    }

    @Test func mutatedTopologiesNeverCrashHangOrLoseTheirLine() async throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["NESTLAB_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let count = env["NESTLAB_FUZZ_COUNT"].flatMap(Int.init) ?? 5000
        print("topology fuzz: seed \(seed), \(count) mutants (NESTLAB_FUZZ_SEED=\(seed) replays this run)")
        var r = Random(state: seed)
        let sources = try Self.topologies()
        let parser = TopologyParser(environment: ["HOME": "/home/researcher", "NESTLAB_TEST_IMAGE_DIR": "/srv/images"])
        var accepted = 0
        var refused = 0
        var slowest = (seconds: 0.0, text: "")
        let started = Date()
        for n in 0..<count {
            // Give the other tests their turn: this loop is seconds of CPU on a shared pool.
            if n % 50 == 0 { await Task.yield() }
            let (name, lines) = sources[r.below(sources.count)]
            let text = Self.mutate(lines, &r)
            let file = "mutant-\(n)-of-\(name)"
            // CPU time of this thread, not wall time: a loaded machine may hold the test back
            // for seconds, which says nothing about how long a mutant takes to read.
            let t0 = Self.threadCPUSeconds()
            do {
                let (t, _) = try parser.load(data: Data(text.utf8), file: file)
                accepted += 1
                // What plan --offline does with an accepted topology.
                var facts: [String: HostFacts] = [:]
                for h in t.hosts { facts[h.name] = HostFacts.assumed(for: h, in: t) }
                if let lab = try? LabResolver(topology: t, facts: facts).resolve() {
                    var bases: [String: [String: BaseVolumeRef]] = [:]
                    for m in lab.machines {
                        let v = VolumeRef(pool: Lab.imagePoolName, name: "base", path: "/images/base", identity: "x")
                        bases[m.host.name, default: [:]][m.image.name] = BaseVolumeRef(disk: v, format: m.image.format)
                    }
                    _ = try? LabRenderer.render(lab: lab, bases: bases, sshKeys: ["ssh-ed25519 AAAA fuzz"])
                }
            } catch let e as TopologyError {
                refused += 1
                let unlocated = e.diagnostics.filter { $0.severity == .error && $0.location == nil }
                #expect(
                    unlocated.isEmpty,
                    "seed \(seed), mutant \(n) of \(name): refused without a line: \(unlocated)\n--- mutant ---\n\(text.prefix(4000))"
                )
                #expect(e.diagnostics.allSatisfy { $0.location == nil || $0.location!.file == file })
            } catch {
                Issue.record(
                    "seed \(seed), mutant \(n) of \(name): not a TopologyError: \(error)\n--- mutant ---\n\(text.prefix(4000))"
                )
            }
            let took = Self.threadCPUSeconds() - t0
            if took > slowest.seconds { slowest = (took, text) }
        }
        let total = Date().timeIntervalSince(started)
        print(
            "topology fuzz: \(accepted) accepted, \(refused) refused in \(String(format: "%.1f", total)) s; slowest \(String(format: "%.3f", slowest.seconds)) s of CPU"
        )
        #expect(slowest.seconds < 2, "seed \(seed): a mutant took \(slowest.seconds) s:\n\(slowest.text.prefix(4000))")
        #expect(refused > 0 && accepted > 0, "the mutations must exercise both paths")
    }
}
