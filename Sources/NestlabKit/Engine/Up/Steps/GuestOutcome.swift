import Foundation
import NestlabCore

/// What a guest's console said, recorded: readiness in the domain's metadata and the report,
/// or the failure with its phase, its reason and the console's last lines.
struct GuestOutcome {
    let context: UpContext

    func settle(_ name: String, _ w: ConsoleWatcher, _ outcome: ReadyOutcome) async {
        let s = context.s
        let progress = context.progress
        guard let rm = s.rendered.machine(named: name), let session = s.sessions[rm.machine.host.name] else { return }
        switch outcome {
        case .ready(let iid):
            await recordReady(rm, instance: iid, session)
            await dropSeed(rm, instance: iid, session)
            context.record(name) { $0.ready = true }
            progress.finish(name, "ready", detail: rm.machine.primaryAddress?.description ?? "")
        case .failed(let code, let phase, let detail):
            let what = Self.failure(code: code, phase: phase, detail: detail)
            context.record(name) {
                $0.ready = false
                $0.error = what
                $0.failedPhase = phase
                $0.consoleTail = w.tail
            }
            progress.finish(name, "failed", failed: true, detail: what)
        case .kernelPanic(let line):
            context.record(name) {
                $0.ready = false
                $0.error = "guest kernel panic: \(line)"
                $0.consoleTail = w.tail
            }
            progress.finish(name, "kernel panic", failed: true)
        case .timedOut:
            let what =
                Interruption.shared.isRequested
                ? "interrupted while waiting for cloud-init"
                : "no readiness report within \(Int(context.options.readyTimeout))s"
            context.record(name) {
                $0.ready = false
                $0.error = what
                $0.consoleTail = w.tail
            }
            progress.finish(name, "timed out", failed: true, detail: what)
        case .bootStalled(let line, let silence, let resets):
            let what =
                "the guest kernel stopped during boot: nothing on the console for \(silence)s before it started init"
                + (resets > 0 ? ", also after \(resets) reset(s)" : "") + " (last line: \(line))"
            context.record(name) {
                $0.ready = false
                $0.error = what
                $0.consoleTail = w.tail
            }
            progress.finish(name, "boot stalled", failed: true, detail: what)
        case .consoleUnavailable(let why):
            let host = rm.machine.host
            let what = "cannot read the console on host '\(host.name)' (\(host.libvirt)) to see readiness: \(why)"
            context.record(name) {
                $0.ready = nil
                $0.error = what
            }
            progress.finish(name, "console unavailable", failed: true, detail: what)
        }
    }

    /// What a guest's failed ready line means: the failed node-script phase, or cloud-init's result.
    static func failure(code: Int, phase: String?, detail: String?) -> String {
        phase.map { "node script phase '\($0)' failed" + (detail.map { ": \($0)" } ?? "") }
            ?? (code == 2
                ? "cloud-init finished without a result (no /run/cloud-init/result.json in the guest)"
                : "cloud-init reported an error (its errors are in /run/cloud-init/result.json in the guest)")
    }

    /// The seed leaves the pool once the guest is ready (it carries the node's secrets).
    private func dropSeed(_ rm: RenderedMachine, instance: String, _ session: HostSession) async {
        let seeds = SeedLifecycle(lab: context.s.lab.name, rm: rm, session: session)
        do {
            _ = try await Blocking.run { try seeds.drop(readyInstance: instance) }
        } catch {
            // The guest is ready either way; the next `up` drops the seed.
            context.progress.note("warning: \(rm.machine.name): \(error)")
        }
    }

    /// Readiness goes into libvirt, so later runs and `status` know without reading the console.
    private func recordReady(_ rm: RenderedMachine, instance: String, _ session: HostSession) async {
        let meta = LabMetadata.ready(rm, lab: context.s.lab.name, instance: instance)
        do {
            try await Blocking.run {
                try ErrorWithContext.wrap("recording readiness of \(rm.machine.domainName) in its metadata") {
                    let d = try session.connection.domain(named: rm.machine.domainName)
                    try d.setMetadata(
                        meta.unprefixed().render(), key: NestlabXMLNS.key, uri: NestlabXMLNS.uri,
                        flags: [.live, .config])
                }
            }
        } catch {
            // The guest is ready either way; later runs just look at its console again.
            context.progress.note("warning: \(rm.machine.name): \(error)")
        }
    }
}
