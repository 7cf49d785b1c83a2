import Dispatch
import Synchronization

/// CPU-bound work over many items, side by side across the CPUs: each result goes into its own
/// slot, so the output is in the order of `items`. Below `concurrentFrom` items the threads cost
/// more than they save, and the items are done one after the other. The first error (in the
/// order of `items`) is thrown once every item is done.
public func concurrentMap<T: Sendable, R: Sendable>(
    _ items: [T], concurrentFrom: Int = 8, _ body: @Sendable (T) throws -> R
) throws -> [R] {
    guard items.count >= concurrentFrom else { return try items.map(body) }
    let slots = Mutex([Result<R, any Error>?](repeating: nil, count: items.count))
    DispatchQueue.concurrentPerform(iterations: items.count) { i in
        let r = Result { try body(items[i]) }
        slots.withLock { $0[i] = r }
    }
    return try slots.withLock { $0 }.map { try $0!.get() }
}
