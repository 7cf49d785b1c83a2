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

    @Test func limitArguments() {
        #expect(BootLimit(argument: "auto") == .auto)
        #expect(BootLimit(argument: "none") == BootLimit.none)
        #expect(BootLimit(argument: "3") == .count(3))
        #expect(BootLimit(argument: "0") == nil)
        #expect(BootLimit(argument: "65") == nil)
        #expect(BootLimit(argument: "many") == nil)
    }
}
