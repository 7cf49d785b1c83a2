import Dispatch
import Foundation

/// Runs blocking C calls (libvirt, file copies) off Swift's cooperative thread pool.
///
/// The cooperative pool has one thread per core (two on our CI machines); a
/// libvirt upload or console read parked on it would stall every other task.
public enum Blocking {
    private static let queue = DispatchQueue(label: "nestlab.blocking", qos: .userInitiated, attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }
        }
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
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()
    private let lock = NSLock()
    private var flag = false
    private var handlers: [@Sendable () -> Void] = []
    private var timer: (any DispatchSourceTimer)?
    private var seen: sig_atomic_t = 0

    public var isRequested: Bool { lock.withLock { flag } }

    public func request() { lock.withLock { flag = true } }

    /// Installs handlers for Ctrl-C and SIGTERM that set the flag and call every `onInterrupt`
    /// given so far (the second signal exits at once, with 130).
    public func install(onInterrupt: @escaping @Sendable () -> Void) {
        let start: Bool = lock.withLock {
            handlers.append(onInterrupt)
            return timer == nil
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
        t.setEventHandler { [weak self] in self?.poll() }
        lock.withLock { timer = t }
        t.resume()
    }

    private func poll() {
        let count = signalCount.pointee
        let run: [@Sendable () -> Void] = lock.withLock {
            guard count != seen else { return [] }
            seen = count
            if flag || count >= 2 { exit(130) }
            flag = true
            return handlers
        }
        for h in run { h() }
    }
}

public struct Interrupted: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
