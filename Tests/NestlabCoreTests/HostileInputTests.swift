import Foundation
import Testing

@testable import NestlabCore

/// Issue 21, classes 4 and 5: every number and version in a topology is ASCII digits in its
/// grammar, and a checksum is exactly 64 lower-case ASCII hex digits. Each case is refused at
/// its own line.
@Suite struct HostileInputTests {
    static func errors(_ yaml: String) -> [String] {
        do {
            _ = try TopologyParser(environment: ["HOME": "/home/researcher"]).load(
                data: Data(yaml.utf8), file: "h.yaml")
            return []
        } catch let e as TopologyError {
            return e.diagnostics.filter { $0.severity == .error }.map(\.description)
        } catch {
            return ["other: \(error)"]
        }
    }

    static func cluster(_ runtimes: String, cni: String = "flannel") -> String {
        """
        name: rt
        images: {deb: {file: /x.qcow2}}
        networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
        machines: [{name: cp, profile: paper-mitigated, memory: 4GiB}]
        clusters:
          - name: k
            controlPlane: [cp]
            containerd: 2.1.4
            cni: \(cni)
            runtimes:
              \(runtimes)
        """
    }

    static let badVersions = [
        "latest", "../x", "1.0/../../", "３.20.0", "3.٢0.0", "3.20", "3.20.0.1", "3.20.0 ", "v", "", "99999.0.0",
    ]

    @Test(arguments: badVersions)
    func runtimeVersionsHaveAGrammar(_ bad: String) {
        let quoted = "\"\(bad)\""
        for (line, what) in [
            ("kata: {version: \(quoted)}", "Kata Containers"), ("urunc: {version: \(quoted)}", "urunc"),
            ("kubevirt: {version: \(quoted)}", "KubeVirt"),
        ] {
            let e = Self.errors(Self.cluster(line))
            #expect(e.count == 1 && e[0].hasPrefix("h.yaml:11:"), "\(what) \(bad.debugDescription): \(e)")
            if !bad.isEmpty {
                #expect(
                    e.first?.contains("is not a \(what) release version") == true
                        && e.first?.contains("in ASCII digits, e.g.") == true,
                    "\(e)")
            }
        }
        let cni = Self.errors(Self.cluster("runc: {}", cni: "{name: flannel, version: \(quoted)}"))
        #expect(cni.count == 1 && cni[0].hasPrefix("h.yaml:9:"), "cni \(bad.debugDescription): \(cni)")
    }

    @Test func goodVersionsPass() {
        #expect(Self.errors(Self.cluster("kata: {version: 3.21.0}")) == [])
        #expect(Self.errors(Self.cluster("kubevirt: {version: v1.7.0}")) == [])
        #expect(Self.errors(Self.cluster("urunc: {version: 0.7.1}", cni: "{name: calico, version: v3.30.2}")) == [])
    }

    @Test func kubernetesVersionsAreASCII() {
        #expect(Versions.resolveKubernetes("1.33.٤") == .malformed("1.33.٤"))
        #expect(Versions.resolveKubernetes("１.33") == .malformed("１.33"))
        #expect(Versions.resolveKubernetes("1.33.44444") == .malformed("1.33.44444"))
    }

    @Test(arguments: [
        "", "sha256:", String(repeating: "a", count: 63), String(repeating: "a", count: 65),
        String(repeating: "A", count: 64), String(repeating: "ａ", count: 64), String(repeating: "g", count: 64),
        String(repeating: "a", count: 32) + "٠" + String(repeating: "a", count: 31),
    ])
    func checksumsAreExactlySixtyFourHexDigits(_ bad: String) {
        let yaml = """
            name: img
            images:
              deb:
                url: https://example.org/deb.qcow2
                sha256: "\(bad)"
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            machines: [{name: m, memory: 1GiB}]
            """
        let e = Self.errors(yaml)
        #expect(
            e.count == 1 && e[0].hasPrefix("h.yaml:5:") && e[0].contains("is not a SHA-256 digest"),
            "\(bad.debugDescription): \(e)")
    }

    @Test func digitsInOtherScriptsAreNotNumbers() {
        for (field, value) in [
            ("vcpus", "٢"), ("vcpus", "２"), ("memory", "٥١٢MiB"), ("memory", "５１２MiB"), ("disk", "４GiB"),
        ] {
            let yaml = """
                name: num
                images: {deb: {file: /x.qcow2}}
                networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
                machines:
                  - name: m
                    \(field): \(value)
                """
            let e = Self.errors(yaml)
            #expect(e.count == 1 && e[0].hasPrefix("h.yaml:6:"), "\(field): \(value): \(e)")
        }
    }

    /// Class 1: sizes near 2^64 once passed parsing and trapped in later arithmetic (a 1G
    /// hugepage profile rounding 18446744073709551615B up to a page). Every size has a ceiling.
    @Test(arguments: [
        ("memory", "18446744073709551615B"), ("memory", "16777215TiB"), ("memory", "16385GiB"),
        ("disk", "18446744073709551615B"), ("disk", "65537GiB"), ("memory", "6148914691236517205B"),
    ])
    func sizesHaveACeiling(_ field: String, _ value: String) {
        let yaml = """
            name: big
            images: {deb: {file: /x.qcow2}}
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            profiles:
              huge: {extends: paper-default, memory: {hugepages: 1G}}
            machines:
              - name: m
                profile: huge
                \(field): \(value)
            """
        let e = Self.errors(yaml)
        #expect(
            e.count == 1 && e[0].hasPrefix("h.yaml:9:") && e[0].contains("is more than nestlab accepts here"),
            "\(value): \(e)")
        #expect(e.first?.contains(field == "memory" ? "at most 16TiB" : "at most 64TiB") == true, "\(e)")
    }

    @Test func theLargestSizesAreAccepted() {
        let yaml = """
            name: big
            images: {deb: {file: /x.qcow2}}
            networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}
            profiles:
              huge: {extends: paper-default, memory: {hugepages: 1G}}
            machines:
              - {name: m, profile: huge, memory: 16TiB, disk: 64TiB, count: 4096}
            """
        #expect(Self.errors(yaml).allSatisfy { !$0.contains("more than nestlab accepts") }, "\(Self.errors(yaml))")
    }
}

/// Issue 21, class 2: no input makes validation do unbounded work. A name of 100,000
/// characters was compared against every candidate by a quadratic edit distance.
@Suite struct UnboundedWorkTests {
    static let long = String(repeating: "x", count: 100_000)

    static func yaml(_ at: String) -> (String, Int) {
        let lines: [(String, String)] = [
            (
                "key",
                "name: big\n\(long): 1\nimages: {deb: {file: /x.qcow2}}\nnetworks: {lab: {mode: nat, cidr: 10.77.0.0/24}}\nmachines: [{name: m}]\n"
            ),
            (
                "machineKey",
                "name: big\nimages: {deb: {file: /x.qcow2}}\nnetworks: {lab: {mode: nat, cidr: 10.77.0.0/24}}\nmachines:\n  - name: m\n    \(long)vcpus: 2\n"
            ),
            (
                "profile",
                "name: big\nimages: {deb: {file: /x.qcow2}}\nnetworks: {lab: {mode: nat, cidr: 10.77.0.0/24}}\nmachines:\n  - name: m\n    profile: paper-\(long)\n"
            ),
            (
                "accel",
                "name: big\nimages: {deb: {file: /x.qcow2}}\nnetworks: {lab: {mode: nat, cidr: 10.77.0.0/24}}\nmachines:\n  - name: m\n    accel: \(long)\n"
            ),
            (
                "runtime",
                "name: big\nimages: {deb: {file: /x.qcow2}}\nnetworks: {lab: {mode: nat, cidr: 10.77.0.0/24}}\nmachines: [{name: m}]\nclusters:\n  - name: k\n    controlPlane: [m]\n    runtimes: [runc, \(long)]\n"
            ),
        ]
        let text = lines.first { $0.0 == at }!.1
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(long) }! + 1
        return (text, line)
    }

    @Test(arguments: ["key", "machineKey", "profile", "accel", "runtime"])
    func aHugeNameIsRefusedQuickly(_ at: String) {
        let (text, line) = Self.yaml(at)
        let t0 = TopologyFuzzTests.threadCPUSeconds()
        let e = HostileInputTests.errors(text)
        let took = TopologyFuzzTests.threadCPUSeconds() - t0
        #expect(e.count == 1 && e[0].hasPrefix("h.yaml:\(line):"), "\(e.map { $0.prefix(200) })")
        #expect(e.first.map { $0.count < 1000 } == true, "the message repeats the whole value")
        #expect(took < 0.5, "\(at): \(took) s of CPU")
    }

    @Test func suggestionsStillWorkForShortNames() {
        #expect(Spelling.closest(to: "vcpu", in: ["vcpus", "memory"]) == "vcpus")
        #expect(Spelling.closest(to: Self.long, in: ["vcpus"]) == nil)
        #expect(Spelling.closest(to: "vcpu", in: [Self.long, "vcpus"]) == "vcpus")
        #expect(Spelling.closest(to: "a", in: ["abcdefghij"]) == nil)
    }
}
