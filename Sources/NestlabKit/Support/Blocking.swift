import Dispatch
import Foundation
import Synchronization

/// Runs blocking C calls (libvirt, file copies, waits for processes) off Swift's cooperative
/// thread pool, each on a thread of its own.
///
/// The cooperative pool has one thread per core (two on our CI machines); a libvirt upload or
/// console read parked on it would stall every other task. Dispatch's queues are no better for
/// work that waits: a concurrent queue (and `concurrentPerform`) runs about as many blocks at once
/// as there are CPUs, so on a two-CPU host the third of three `virDomainDestroy` calls (a second
/// or more, nearly all of it waiting for QEMU to end) waited for a slot. A thread per call costs
/// tens of microseconds; every caller bounds how many it starts (per host, `--parallel`).
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }.start()
        }
    }

    /// Runs `body(0..<count)` each on a thread of its own, and returns when all have returned.
    public static func each(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for i in 0..<count {
            done.enter()
            Thread {
                body(i)
                done.leave()
            }.start()
        }
        done.wait()
    }
}
