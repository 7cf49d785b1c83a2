import Foundation
import Synchronization

/// Every domain tagged for the lab (or for `rebuild --machine`'s machines), all at once:
/// destroying a QEMU takes a second or more, nearly all of it waiting for the process to end.
/// One thread per domain (`Blocking.each`): with `concurrentPerform`, on a two-CPU host the
/// third domain waited for a slot (down of three VMs took 2.4 times one `virsh destroy`).
struct RemoveDomains: DownStep {
    let name = "remove domains"

    func run(_ host: DownHost) throws {
        let wanted = host.options.only
        let domains = try host.session.labDomains(host.lab).filter {
            wanted == nil || wanted!.contains($0.meta.machine)
        }
        let failures = Mutex<[Int: any Error]>([:])
        Blocking.each(domains.count) { i in
            let (d, meta) = domains[i]
            host.progress.update(meta.machine, "removing domain")
            do {
                try host.session.removeDomain(d)
                host.progress.finish(meta.machine, "removed")
            } catch {
                host.progress.finish(meta.machine, "not removed", failed: true, detail: "\(error)")
                failures.withLock { $0[i] = error }
            }
        }
        if let first = failures.withLock({ $0.sorted { $0.key < $1.key }.first?.value }) { throw first }
        host.note { $0.domains += domains.map { "\(host.hostName):\($0.domain.name)" } }
    }
}
