import Testing

@testable import NestlabCore

@Suite("phase lines")
struct KubePhaseLineTests {
    @Test func parsesWhatScriptsWrite() {
        let line =
            "[   12.345] NESTLAB phase=kubernetes-binaries status=failed detail=cannot%20reach%20dl.k8s.io%3A%20cannot%20resolve%20host\r"
        let parsed = PhaseLine.parse(line)
        #expect(
            parsed
                == PhaseLine(
                    phase: "kubernetes-binaries", status: .failed, detail: "cannot reach dl.k8s.io: cannot resolve host"
                ))
        #expect(PhaseLine.parse("NESTLAB phase=swap status=ok detail=") == PhaseLine(phase: "swap", status: .ok))
        #expect(PhaseLine.parse("cloud-init: NESTLAB phase=x status=done detail=") == nil)
        #expect(PhaseLine.parse("random console line") == nil)
        #expect(PhaseLine.parse("NESTLAB phase=x status=ok detail=%G1") == nil)
    }

    @Test func roundTrips() {
        for detail in ["", "one", "with spaces & symbols %/=?", "line\nbreak", "é 😀"] {
            let line = PhaseLine(phase: "p", status: .start, detail: detail)
            #expect(PhaseLine.parse(line.rendered) == line)
            #expect(!line.rendered.dropFirst(PhaseLine.prefix.count).contains("\n"))
        }
    }
}
