import Dispatch
import Foundation
import Synchronization

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
