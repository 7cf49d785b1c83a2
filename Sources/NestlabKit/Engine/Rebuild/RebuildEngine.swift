import Foundation
import NestlabCore

/// `nestlab rebuild`: the lab back to a known state, as an ordered list of steps (the progress
/// and the lab log name each).
///
/// From a golden state (`rebuild`, `rebuild --from NAME`, when the lab has one):
/// 1. check the golden state: it matches the topology, and every machine's golden layer is in
///    the lab pool on its host, or nothing is touched;
/// 2. replace disks: every machine at once, its domain stopped and its disk discarded for a fresh
///    overlay on its golden layer;
/// 3. bring up: `up`'s steps (named in turn), which define, start and wait for the machines.
///
/// Fresh (`--fresh`, `--machine`, or a lab without golden states):
/// 1. tear down: `down`'s steps on every host at once, for only the named machines with
///    `--machine`; base images are kept;
/// 2. bring up: `up`'s steps.
public enum RebuildEngine {
    /// Where the lab is rebuilt from.
    public enum Source: Sendable {
        /// Fresh overlays on a golden state's layers; cloud-init does not run first boot again.
        case golden(GoldenState)
        /// Down and up: the machines (`UpOptions.only`, or all) are made from nothing.
        case fresh
    }

    static func pipeline(_ source: Source) -> [any RebuildStep] {
        switch source {
        case .golden: [CheckGoldenState(), ReplaceDisks(), BringUp()]
        case .fresh: [TearDown(), BringUp()]
        }
    }

    /// Runs the pipeline for `source`; `options.only` limits a fresh rebuild to those machines.
    public static func run(_ s: LabSession, from source: Source, options: UpOptions, progress: ProgressView)
        async throws -> UpReport
    {
        let context = RebuildContext(session: s, source: source, options: options, progress: progress)
        let steps = pipeline(source)
        for (index, step) in steps.enumerated() {
            progress.step(index + 1, of: steps.count, step.name)
            try await step.run(context)
        }
        guard let report = context.up.withLock({ $0 }) else {
            preconditionFailure("the rebuild pipeline ended without bringing the lab up")
        }
        return report
    }
}
