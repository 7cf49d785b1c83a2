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
        do { return try body() } catch let e as ErrorWithContext { throw e } catch { throw ErrorWithContext(context(), error) }
    }
}

/// A cancellation flag set by SIGINT/SIGTERM: running steps finish, no new ones start.
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()
    private let lock = NSLock()
    private var flag = false
    private var sources: [any DispatchSourceSignal] = []

    public var isRequested: Bool { lock.withLock { flag } }

    public func request() { lock.withLock { flag = true } }

    /// Installs handlers for Ctrl-C and SIGTERM that set the flag (the second Ctrl-C exits at once).
    public func install(onInterrupt: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler { [weak self] in
                guard let self else { return }
                if self.isRequested { exit(130) }
                self.request()
                onInterrupt()
            }
            src.resume()
            lock.withLock { sources.append(src) }
        }
    }
}

public struct Interrupted: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
