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

/// An error with what nestlab was doing when it happened:
/// "while creating overlay ci-vm-0.qcow2 on local: <libvirt error>".
public struct ErrorWithContext: Error, CustomStringConvertible, Sendable {
    public var context: String
    public var underlying: any Error

    public init(_ context: String, _ underlying: any Error) {
        self.context = context
        self.underlying = underlying
    }

    public var description: String { "while \(context): \(underlying)" }
}

extension ErrorWithContext {
    /// Runs `body`, wrapping any error with `context`.
    public static func wrap<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ErrorWithContext { throw e } catch {
            throw ErrorWithContext(context(), error)
        }
    }
}

/// Signals counted by the C handler; read by `Interruption`'s poller. Allocated before any
/// handler is installed, so the handler only stores to memory (async-signal-safe).
nonisolated(unsafe) private let signalCount: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()

private func countSignal(_: Int32) {
    signalCount.pointee &+= 1
}

/// A cancellation flag set by SIGINT/SIGTERM: running steps finish, no new ones start.
///
/// A plain `sigaction` handler counts the signals and a timer on a global queue acts on them.
/// (A DispatchSource signal source needs the signal ignored, and on Linux an ignored signal
/// is discarded before libdispatch's signalfd sees it: Ctrl-C did nothing.)
public final class Interruption: Sendable {
    public static let shared = Interruption()
    private struct State {
        var flag = false
        var handlers: [@Sendable () -> Void] = []
        var installed = false
        var seen: sig_atomic_t = 0
    }
    private let state = Mutex(State())

    public var isRequested: Bool { state.withLock { $0.flag } }

    public func request() { state.withLock { $0.flag = true } }

    /// Installs handlers for Ctrl-C and SIGTERM that set the flag and call every `onInterrupt`
    /// given so far (the second signal exits at once, with 130).
    public func install(onInterrupt: @escaping @Sendable () -> Void) {
        let start: Bool = state.withLock { s in
            s.handlers.append(onInterrupt)
            defer { s.installed = true }
            return !s.installed
        }
        guard start else { return }
        _ = signalCount.pointee
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = countSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        // The handler holds its timer: it polls for as long as the process lives.
        t.setEventHandler { [weak self] in
            withExtendedLifetime(t) { self?.poll() }
        }
        t.resume()
    }

    private func poll() {
        let count = signalCount.pointee
        let run: [@Sendable () -> Void] = state.withLock { s in
            guard count != s.seen else { return [] }
            s.seen = count
            if s.flag || count >= 2 { exit(130) }
            s.flag = true
            return s.handlers
        }
        for h in run { h() }
    }
}

public struct Interrupted: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
