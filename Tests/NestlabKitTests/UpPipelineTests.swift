import Foundation
import Libvirt
import NestlabCore
import Synchronization
import Testing

@testable import NestlabKit

/// `up` as a pipeline of named steps, on one parse of the topology, with typed machine states.
@Suite struct UpPipelineTests {
    @Test func machineStatesMoveOnlyAsTheTableSays() {
        let all: [MachineState] = [.unknown, .drift, .running, .failed, .bareMetal]
        var allowed: [String] = []
        for from in all {
            for to in all where from != to && from.canMove(to: to) { allowed.append("\(from) → \(to)") }
        }
        #expect(allowed == ["unknown → drift", "unknown → running", "unknown → failed", "running → failed"])
        #expect(all.allSatisfy { $0.canMove(to: $0) })
        // The report keeps the words it always printed.
        #expect(all.map(\.description) == ["unknown", "drift", "running", "failed", "bare metal"])
    }

    @Test func aRefusedMoveKeepsTheStateAndIsNoted() {
        var ledger = UpLedger()
        ledger.results["a"] = UpReport.MachineResult(name: "a", host: "h", action: "create", state: .unknown)
        ledger.record("a") { $0.state = .failed }
        ledger.record("a") {
            $0.state = .running
            $0.error = "kept"
        }
        #expect(ledger.results["a"]?.state == .failed)
        #expect(ledger.results["a"]?.error == "kept", "the rest of the update applies")
        #expect(ledger.refusedMoves == ["a: failed → running"])
    }

    @Test func thePipelineListsItsStepsInOrder() {
        var o = UpOptions()
        #expect(
            UpEngine.pipeline(o).map(\.name) == [
                "refuse foreign domains", "write access files", "prepare hosts",
                "serve the artifact mirror", "converge machines", "wait for nodes",
                "wait for clusters",
            ])
        o.wait = false
        #expect(UpEngine.pipeline(o).map(\.name).last == "converge machines")
    }

    /// The lab log (and the plain progress) names each step as it starts.
    @Test func upNamesEachStepInTheLog() async throws {
        let lab = try KitLab(name: "kp")
        let (progress, steps) = PipelineSteps.recording()
        _ = try await UpEngine(session: try lab.open(), options: KitLab.upOptions(), progress: progress).run()
        #expect(
            steps() == [
                "step 1/5: refuse foreign domains", "step 2/5: write access files", "step 3/5: prepare hosts",
                "step 4/5: serve the artifact mirror", "step 5/5: converge machines",
            ])
    }

    /// `up` and `rebuild` parse the topology once each, fetch and session included.
    @Test func eachCommandParsesItsTopologyOnce() async throws {
        let lab = try KitLab(name: "kq")
        let flags = RunFlags(format: .json, plain: true, verbose: false)
        let up = ParseCount()
        try await ParseCount.$current.withValue(up) {
            try await LifecycleCommands.up(
                file: lab.topologyPath, options: KitLab.upOptions(), flags: flags, skipPreflight: true,
                sessionOptions: lab.options)
        }
        #expect(up.value == 1)
        #expect(try lab.connection.listAllDomains().map(\.name).sorted() == ["kq-vm-0", "kq-vm-1"])
        let rebuild = ParseCount()
        try await ParseCount.$current.withValue(rebuild) {
            try await LifecycleCommands.rebuild(
                file: lab.topologyPath, machines: ["vm-1"], options: KitLab.upOptions(), flags: flags,
                skipPreflight: true, sessionOptions: lab.options)
        }
        #expect(rebuild.value == 1)
        #expect(try lab.connection.listAllDomains().map(\.name).sorted() == ["kq-vm-0", "kq-vm-1"])
    }
}
