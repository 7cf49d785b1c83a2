import Foundation
import Synchronization

/// Lets a VM start only while those still booting on its host leave room for it.
///
/// Under TCG every vCPU is a host thread doing binary translation. When the vCPUs of the
/// guests booting together outnumber the host's CPUs, the guests wait on each other (IPIs to
/// vCPUs that are not running, RCU stalls) and every boot takes several times longer: on a
/// 2-CPU host one 2-vCPU guest boots in about 35 s, two at once took 4 minutes and more. A
/// VM holds its share from its start until it is ready, has failed, or has timed out.
/// Members of a cluster never wait here: a control plane's bootstrap waits for its workers.
///
/// VMs boot in the topology's order: each machine joins the queue (`enqueue`) when nestlab
/// starts preparing it, in that order, and may take a share only when no machine before it
/// is still queued. A machine leaves the queue when it takes its share or when it will not
/// boot after all (`withdraw`: it failed, was interrupted, or needed no boot).
final class BootGate: Sendable {
    let capacity: Int
    private struct Slots {
        var used = 0
        /// Machines waiting for their turn, in the order they joined (the topology's).
        var queue: [String] = []

        /// The queued machine that must start before this one, if any.
        func ahead(of machine: String?) -> String? {
            guard let machine, queue.contains(machine), let first = queue.first, first != machine else { return nil }
            return first
        }
    }
    private let slots = Mutex(Slots())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func enqueue(_ machine: String) { slots.withLock { $0.queue.append(machine) } }

    func withdraw(_ machine: String) { slots.withLock { $0.queue.removeAll { $0 == machine } } }

    /// Takes `weight` if it fits, or if nothing else is booting (a VM larger than the host still
    /// boots), and if no machine queued before this one is still waiting for its turn.
    func tryAcquire(_ weight: Int, machine: String? = nil) -> Bool {
        slots.withLock { s in
            guard s.ahead(of: machine) == nil else { return false }
            guard s.used == 0 || s.used + weight <= capacity else { return false }
            s.used += weight
            s.queue.removeAll { $0 == machine }
            return true
        }
    }

    func release(_ weight: Int) { slots.withLock { $0.used = max(0, $0.used - weight) } }

    var inUse: Int { slots.withLock { $0.used } }

    /// Why this machine cannot start now, for the progress line.
    func waitReason(machine: String?) -> String {
        slots.withLock { s in
            if let first = s.ahead(of: machine) {
                return "boots after \(first) (topology order); \(s.used) of \(capacity) boot slots busy"
            }
            return "\(s.used) of \(capacity) boot slots busy"
        }
    }

    /// Waits for room and for the machines queued before this one; false when `stop()` says to
    /// give up (Ctrl-C).
    func acquire(_ weight: Int, machine: String? = nil, stop: () -> Bool) async -> Bool {
        while !tryAcquire(weight, machine: machine) {
            if stop() { return false }
            try? await Task.sleep(nanoseconds: 250_000_000)
        }
        return true
    }
}
