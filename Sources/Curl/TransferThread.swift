import Foundation

/// Runs blocking libcurl work off Swift's cooperative thread pool.
///
/// `curl_easy_perform` blocks for the whole transfer. On the cooperative pool (one thread
/// per core, two here) a couple of downloads would starve every other task, so each
/// transfer gets its own thread and is bridged back with a continuation.
enum TransferThread {
    static func run<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) -> T) async -> T {
        let flag = CancellationFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
                let thread = Thread { continuation.resume(returning: body(flag)) }
                thread.name = "nestlab-curl"
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
    }
}
