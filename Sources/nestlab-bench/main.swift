// nestlab-bench: micro-benchmarks that print figures (never timed assertions).
// Each benchmark lives in its own file as a function; this file dispatches.
import Foundation

let benchmarks: [String: ([String]) async throws -> Void] = [
    "updown": benchUpDown,
    "download": benchDownload,
]

let args = Array(CommandLine.arguments.dropFirst())
guard let name = args.first, let run = benchmarks[name] else {
    print("usage: nestlab-bench <\(benchmarks.keys.sorted().joined(separator: "|"))> [args...]")
    exit(2)
}
try await run(Array(args.dropFirst()))
