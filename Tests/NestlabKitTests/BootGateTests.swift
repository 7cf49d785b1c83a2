import Foundation
import Testing

@testable import NestlabKit

@Suite struct BootGateTests {
    @Test func sharesAreVCPUsUpToTheHostsCPUs() {
        let g = BootGate(capacity: 4)
        #expect(g.tryAcquire(2))
        #expect(g.tryAcquire(2))
        #expect(!g.tryAcquire(1), "4 of 4 in use")
        g.release(2)
        #expect(g.tryAcquire(1))
        #expect(g.inUse == 3)
    }

    @Test func aMachineLargerThanTheHostBootsAlone() {
        let g = BootGate(capacity: 2)
        #expect(g.tryAcquire(8), "nothing else booting: it may start")
        #expect(!g.tryAcquire(1))
        g.release(8)
        #expect(g.inUse == 0)
        #expect(g.tryAcquire(1))
    }

    @Test func acquireWaitsForARelease() async {
        let g = BootGate(capacity: 2)
        #expect(g.tryAcquire(2))
        let started = Date()
        Task {
            try? await Task.sleep(nanoseconds: 400_000_000)
            g.release(2)
        }
        let ok = await g.acquire(2, stop: { false })
        #expect(ok)
        #expect(Date().timeIntervalSince(started) >= 0.35, "acquired before the release")
        #expect(g.inUse == 2)
    }

    @Test func acquireGivesUpWhenStopped() async {
        let g = BootGate(capacity: 1)
        #expect(g.tryAcquire(1))
        let ok = await g.acquire(1, stop: { true })
        #expect(!ok)
        #expect(g.inUse == 1)
    }

    @Test func queuedMachinesStartInTheirOrder() {
        let g = BootGate(capacity: 4)
        for name in ["vm-0", "vm-1", "vm-2"] { g.enqueue(name) }
        #expect(!g.tryAcquire(2, machine: "vm-1"), "vm-0 is queued before vm-1, though there is room")
        #expect(g.waitReason(machine: "vm-1") == "boots after vm-0 (topology order); 0 of 4 boot slots busy")
        #expect(g.tryAcquire(2, machine: "vm-0"))
        #expect(g.tryAcquire(2, machine: "vm-1"), "vm-0 started: vm-1 is first now")
        #expect(!g.tryAcquire(2, machine: "vm-2"), "4 of 4 in use")
        #expect(g.waitReason(machine: "vm-2") == "4 of 4 boot slots busy")
        g.release(2)
        #expect(g.tryAcquire(2, machine: "vm-2"))
        #expect(g.inUse == 4)
    }

    @Test func aWithdrawnMachineHoldsNoOneBack() {
        let g = BootGate(capacity: 2)
        g.enqueue("vm-0")
        g.enqueue("vm-1")
        #expect(!g.tryAcquire(2, machine: "vm-1"))
        g.withdraw("vm-0")  // vm-0 failed before it booted, or was already running
        #expect(g.tryAcquire(2, machine: "vm-1"))
        g.withdraw("vm-1")  // after its start: nothing left to remove
        #expect(g.inUse == 2)
        #expect(g.tryAcquire(1, machine: nil) == false, "no room, and no order to skip")
    }

    @Test func waitingMachinesStartInTheirOrderWhateverOrderTheyArrive() async {
        let g = BootGate(capacity: 1)
        let names = ["vm-0", "vm-1", "vm-2", "vm-3"]
        for name in names { g.enqueue(name) }
        let started = Started()
        // They reach the gate in reverse order; each boots for a moment, then frees its share.
        await withTaskGroup(of: Void.self) { group in
            for rank in names.indices.reversed() {
                group.addTask {
                    _ = await g.acquire(1, machine: names[rank], stop: { false })
                    started.append(names[rank])
                    try? await Task.sleep(nanoseconds: 50_000_000)
                    g.release(1)
                }
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        #expect(started.names == names)
    }

    final class Started: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func append(_ name: String) { lock.withLock { list.append(name) } }
        var names: [String] { lock.withLock { list } }
    }

    @Test func limitArguments() {
        #expect(BootLimit(argument: "auto") == .auto)
        #expect(BootLimit(argument: "none") == BootLimit.none)
        #expect(BootLimit(argument: "3") == .count(3))
        #expect(BootLimit(argument: "0") == nil)
        #expect(BootLimit(argument: "65") == nil)
        #expect(BootLimit(argument: "many") == nil)
    }
}
