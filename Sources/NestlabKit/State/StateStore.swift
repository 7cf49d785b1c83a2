import Foundation
import NestlabCore

/// The lab's local state: only what libvirt cannot hold.
///
/// `$NESTLAB_STATE_DIR` or `$XDG_STATE_HOME/nestlab` or `~/.local/state/nestlab`,
/// then one folder per lab (mode 0700) with the SSH key, the cluster PKI and
/// kubeconfigs (0600), testbed.json, console logs and the run lock.
public struct StateStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public static func `default`(environment: [String: String] = ProcessInfo.processInfo.environment) -> StateStore {
        if let d = environment["NESTLAB_STATE_DIR"], !d.isEmpty { return StateStore(root: URL(fileURLWithPath: d)) }
        if let x = environment["XDG_STATE_HOME"], !x.isEmpty {
            return StateStore(root: URL(fileURLWithPath: x).appendingPathComponent("nestlab"))
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return StateStore(root: URL(fileURLWithPath: home).appendingPathComponent(".local/state/nestlab"))
    }

    public func lab(_ name: String) -> LabState { LabState(dir: root.appendingPathComponent(name), name: name) }

    /// Labs with local state (each may or may not still exist in libvirt).
    public func labs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }
}
