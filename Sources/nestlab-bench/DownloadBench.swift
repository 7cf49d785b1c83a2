import Curl
import Foundation

/// `nestlab-bench download URL OUT SHA256`: one verified download through nestlab's
/// `Downloader`, for Tests/Bench/download-throughput to compare with the curl CLI.
///
/// Prints one line: `nestlab-download bytes=N seconds=S mbps=R cpu=C sha256=HEX`. The time
/// covers the whole `download` call (transfer, streaming SHA-256, rename); MB is 10^6
/// bytes; `cpu` is the process's user+system CPU seconds so far (getrusage). OUT and
/// OUT.partial are removed first, so every run is a full download. With
/// NESTLAB_BENCH_PROGRESS=1 the progress renderer draws on standard error (for looking at
/// it; leave it off when measuring).
func benchDownload(_ args: [String]) async throws {
    guard args.count == 3, let url = URL(string: args[0]) else {
        print("usage: nestlab-bench download URL OUT SHA256")
        exit(2)
    }
    let destination = URL(fileURLWithPath: args[1])
    unlink(destination.path)
    unlink(destination.path + ".partial")
    let showProgress = ProcessInfo.processInfo.environment["NESTLAB_BENCH_PROGRESS"] == "1"
    let downloader = Downloader(options: DownloadOptions(), progress: showProgress ? ProgressRenderer().handler : nil)
    let start = ContinuousClock.now
    let result = try await downloader.download(from: url, to: destination, checksum: .sha256(args[2]))
    let (whole, fraction) = (ContinuousClock.now - start).components
    let seconds = Double(whole) + Double(fraction) / 1e18
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpu =
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    print(
        String(
            format: "nestlab-download bytes=%lld seconds=%.3f mbps=%.1f cpu=%.2f sha256=",
            result.size, seconds, Double(result.size) / seconds / 1e6, cpu) + result.sha256)
}
