import Foundation

/// Everything one node needs: files to write, then commands to run as root, in order.
///
/// For a VM the lead puts `files` into cloud-init `write_files` and `commands` into
/// `runcmd`; for a bare-metal host it copies the files over SSH and runs the
/// commands there. Progress comes back as ``PhaseLine`` lines on the console/stdout.
public struct NodeBootstrap: Sendable, Hashable {
    public var files: [NodeFile]
    /// argv lists, run one after the other; stop at the first that fails.
    public var commands: [[String]]
    /// The same steps as one argv (`bootstrap.sh node-prep.sh ...`), which stops at the first
    /// failure and ends with `NESTLAB phase=bootstrap status=ok|failed`: one `runcmd` entry.
    public var entryCommand: [String]
    /// Names of the phases the commands report, in order (for progress display).
    public var phases: [String]
    /// Cluster-level manifests among `files` (control plane only), for `plan --render`.
    public var clusterManifests: [NodeFile]
    /// Smoke tests the control plane runs (its last command), empty on workers.
    public var smokeTests: [SmokeTest]

    public func file(at path: String) -> NodeFile? { files.first { $0.path == path } }
}
