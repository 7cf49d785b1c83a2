import Foundation
import NestlabCore

/// `nestlab snapshot`: golden layers of a ready lab, for `rebuild` to start from.
///
/// `snapshot` is an ordered list of steps (the progress and the lab log name each):
/// 1. check machines are ready: every machine up, unchanged and ready, or nothing is touched;
/// 2. shut down machines: all at once, cleanly (ACPI), each waited for up to the timeout;
/// 3. capture golden layers: all at once, each overlay becomes the machine's read-only golden
///    layer, with a fresh overlay on top;
/// 4. record the golden state: `golden/NAME.json` in the lab's state folder;
/// 5. start again: the machines, on their fresh overlays, through `UpEngine` (its own steps).
///
/// `remove` (`snapshot rm`) is in the file beside this one; `rebuild --from` is `RebuildEngine`.
public enum SnapshotEngine {
    static func pipeline() -> [any SnapshotStep] {
        [CheckMachinesReady(), ShutDownMachines(), CaptureGoldenLayers(), RecordGoldenState(), StartAgain()]
    }

    /// Shuts the machines down cleanly, turns each overlay into a golden layer with a fresh
    /// overlay on top, records the golden state, and starts the machines again.
    public static func snapshot(
        _ s: LabSession, name: String, progress: ProgressView, options: UpOptions = UpOptions(),
        shutdownTimeout: TimeInterval = 300
    ) async throws -> GoldenState {
        guard name.range(of: #"^[a-z0-9][a-z0-9-]{0,30}$"#, options: .regularExpression) != nil else {
            throw UsageError("'\(name)' is not a valid golden state name (lower-case letters, digits and '-')")
        }
        if (try? GoldenState.load(s.state, name)) != nil {
            throw UsageError(
                "golden state '\(name)' exists; remove it first with `nestlab snapshot rm \(name)` or choose another name"
            )
        }
        let plan = try await Blocking.run { try Planner.plan(s) }
        let context = SnapshotContext(
            session: s, name: name, options: options, progress: progress, shutdownTimeout: shutdownTimeout,
            plan: plan)
        let steps = pipeline()
        for (index, step) in steps.enumerated() {
            progress.step(index + 1, of: steps.count, step.name)
            try await step.run(context)
        }
        guard let golden = context.golden.withLock({ $0 }) else {
            preconditionFailure("the snapshot pipeline ended without recording the golden state")
        }
        return golden
    }
}
