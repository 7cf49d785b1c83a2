import ArgumentParser
import Foundation
import NestlabCore
import NestlabKit

/// `nestlab`: provision nested-Kubernetes testbeds on libvirt from a topology file.
struct Nestlab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nestlab",
        abstract: "Provision repeatable nested Kubernetes testbeds on libvirt/KVM.",
        discussion: """
            A topology file describes hosts, images, networks, tuning profiles, machines, \
            Kubernetes clusters and the benchmark hand-off. nestlab makes libvirt match it \
            (up), shows what it would do (plan), checks the host (preflight), reports what \
            runs (status) and removes exactly the lab's objects (down).

            Exit codes: 0 success, 1 an operation failed, 2 bad input (command line or topology). \
            Topology reference: docs/topology.md. Tuning knobs: docs/tuning.md.
            """,
        version: NestlabVersion.string,
        subcommands: [
            Validate.self, Plan.self, Preflight.self, Up.self, Status.self, Down.self, Rebuild.self, Snapshot.self,
            SSH.self, Exec.self, ConsoleCommand.self, SSHConfigCommand.self, Inventory.self, Bench.self, Report.self,
            Kubeconfig.self, Handoff.self,
            Cache.self,
        ]
    )
}
