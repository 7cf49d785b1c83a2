import Foundation
import NestlabCore
import Synchronization

/// What the steps of `snapshot` share: the session, the golden state's name, the options of the
/// `up` that starts the machines again, and the plan; and, behind Mutexes, what the steps make:
/// the captured layers (written by concurrent tasks) and the recorded golden state.
final class SnapshotContext: Sendable {
    let s: LabSession
    /// The golden state's name (already checked: valid, and not taken).
    let name: String
    let options: UpOptions
    let progress: ProgressView
    /// How long a machine may take to shut down.
    let shutdownTimeout: TimeInterval
    let plan: LabPlan
    let layers = Mutex<[GoldenState.MachineLayer]>([])
    let golden = Mutex<GoldenState?>(nil)

    init(
        session: LabSession, name: String, options: UpOptions, progress: ProgressView,
        shutdownTimeout: TimeInterval, plan: LabPlan
    ) {
        s = session
        self.name = name
        self.options = options
        self.progress = progress
        self.shutdownTimeout = shutdownTimeout
        self.plan = plan
    }

    /// The plan's machines, each with its host's session.
    var machines: [(rendered: RenderedMachine, host: HostSession)] {
        plan.machines.compactMap { mp in s.sessions[mp.rendered.machine.host.name].map { (mp.rendered, $0) } }
    }
}
