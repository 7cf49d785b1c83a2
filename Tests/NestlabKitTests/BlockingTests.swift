import Foundation
import NestlabKit
import Synchronization
import Testing

/// Blocking work (libvirt calls, waits for QEMU to end) runs all at once, however few CPUs the
/// host has: each body below waits until every one of them has started, which never happens when
/// only as many run at once as there are CPUs (as with `concurrentPerform` on a two-CPU host).
@Suite struct BlockingTests {
    static let width = 3 * ProcessInfo.processInfo.activeProcessorCount + 2

    /// Counts arrivals; `waitForAll` is true once `total` have arrived, false after 20 s.
    final class Barrier: Sendable {
        let total: Int
        private let arrived = Mutex(0)
        init(_ total: Int) { self.total = total }
        func waitForAll() -> Bool {
            arrived.withLock { $0 += 1 }
            let deadline = Date().addingTimeInterval(20)
            while arrived.withLock({ $0 }) < total {
                if Date() > deadline { return false }
                usleep(5_000)
            }
            return true
        }
    }

    @Test func eachRunsEveryBodyAtOnce() {
        let barrier = Barrier(Self.width)
        let met = Mutex(0)
        Blocking.each(Self.width) { _ in
            if barrier.waitForAll() { met.withLock { $0 += 1 } }
        }
        #expect(met.withLock { $0 } == Self.width)
    }

    @Test func runStartsEveryCallAtOnce() async throws {
        let barrier = Barrier(Self.width)
        let met = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<Self.width { group.addTask { try await Blocking.run { barrier.waitForAll() } } }
            var n = 0
            for try await ok in group where ok { n += 1 }
            return n
        }
        #expect(met == Self.width)
    }
}
