import Foundation
import Testing

@testable import NestlabCore

/// Issue 21, class 11: the reported line is the line of the problem, through aliases and
/// anchors, in CRLF files, after a byte-order mark, on duplicate keys in flow mappings, and on
/// bytes that are not UTF-8 (refused with the byte offset, not a crash).
@Suite struct ReportedLineTests {
    static func errors(_ data: Data) -> [String] {
        do {
            _ = try TopologyParser(environment: ["HOME": "/home/researcher"]).load(data: data, file: "l.yaml")
            return []
        } catch let e as TopologyError {
            return e.diagnostics.filter { $0.severity == .error }.map(\.description)
        } catch {
            return ["other: \(error)"]
        }
    }

    static func errors(_ text: String) -> [String] { errors(Data(text.utf8)) }

    static func lines(_ e: [String]) -> [Int] {
        e.compactMap { $0.split(separator: ":").dropFirst().first.flatMap { Int($0) } }
    }

    static let head = """
        name: lines
        images: {deb: {file: /x.qcow2}}
        networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}

        """

    @Test func aScalarReachedThroughAnAliasIsReportedAtTheAlias() {
        let e = Self.errors(
            Self.head + """
                machines:
                  - name: a
                    memory: &mem 8GB
                  - name: b
                    memory: *mem
                """)
        #expect(Self.lines(e) == [6, 8], "\(e)")
        #expect(e.last?.hasPrefix("l.yaml:8:13:") == true, "the alias's own column: \(e)")
        #expect(e.allSatisfy { $0.contains("'8GB' has an ambiguous unit") })
    }

    @Test func aMappingReachedThroughAnAliasIsReportedAtTheAlias() {
        let e = Self.errors(
            Self.head + """
                profiles:
                  p1:
                    cpu: &c {mode: host-passthroug}
                  p2:
                    extends: p1
                    cpu: *c
                machines: [{name: a, profile: p2}]
                """)
        #expect(Self.lines(e) == [6, 9], "\(e)")
    }

    @Test func aListElementReachedThroughAnAliasIsReportedAtTheAlias() {
        let e = Self.errors(
            """
            name: lines
            images: {deb: {file: /x.qcow2}}
            networks:
              lab:
                cidr: 10.77.0.0/24
                dns:
                  - &d 10.77.0.999
                  - 10.77.0.1
                  - *d
            machines: [{name: a}]
            """)
        #expect(Self.lines(e) == [7, 9], "\(e)")
    }

    @Test func aMergeKeyIsAnUnknownKeyAtItsLine() {
        let e = Self.errors(
            Self.head + """
                machines:
                  - &base {name: a, vcpus: 2}
                  - <<: *base
                    name: b
                """)
        #expect(Self.lines(e) == [6], "\(e)")
        #expect(e.first?.contains("unknown key '<<'") == true, "\(e)")
    }

    static let body = [
        "name: crlf", "images: {deb: {file: /x.qcow2}}", "networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}",
        "machines:", "  - name: a", "    vcpus: 2", "    vcpus: 3", "  - name: b", "    memory: 8GB",
    ]

    @Test(arguments: ["\n", "\r\n"], [false, true])
    func lineEndingsAndAByteOrderMarkKeepTheLines(_ newline: String, _ bom: Bool) {
        var data = Data(bom ? [0xEF, 0xBB, 0xBF] : [])
        data.append(Data(Self.body.joined(separator: newline).utf8))
        let e = Self.errors(data)
        #expect(e.count == 1 && e[0].hasPrefix("l.yaml:7:5: error: vcpus: duplicate key 'vcpus'"), "\(e)")
        var valid = Self.body
        valid.remove(at: 6)
        var d = Data(bom ? [0xEF, 0xBB, 0xBF] : [])
        d.append(Data(valid.joined(separator: newline).utf8))
        let e2 = Self.errors(d)
        #expect(e2.count == 1 && e2[0].hasPrefix("l.yaml:8:13: error: machines.b.memory:"), "\(e2)")
    }

    @Test(arguments: [
        ("machines: [{name: a, vcpus: 2, vcpus: 3}]", 4, 32),
        ("machines: [{name: a,\n  vcpus: 2,\n  vcpus: 3}]", 6, 3),
        ("machines: [{name: a, vcpus: 2, \"vcpus\": 3}]", 4, 32),
        ("machines: [{name: a, cpu: {x: 1}, vcpus: 2, vcpus: 3}]", 4, 45),
    ])
    func aDuplicateKeyInAFlowMappingIsReportedAtItsSecondOccurrence(_ machines: String, _ line: Int, _ column: Int) {
        let e = Self.errors(Self.head + machines)
        #expect(e.count == 1 && e[0].hasPrefix("l.yaml:\(line):\(column): error: vcpus: duplicate key 'vcpus'"), "\(e)")
    }

    @Test(
        arguments: [
            ([0xFF], 1, 1, 0),
            (Array("name: a\nimages: x".utf8) + [0xC3, 0x28], 2, 10, 17),
            (Array("name: a\n# comment \u{e9}\nnet: ".utf8) + [0xE2, 0x82], 3, 6, 26),
            (Array("name: a\n\n\nx: ".utf8) + [0x80] + Array(" more\n".utf8), 4, 4, 13),
        ] as [([UInt8], Int, Int, Int)])
    func bytesThatAreNotUTF8AreRefusedWithTheirOffset(_ bytes: [UInt8], _ line: Int, _ column: Int, _ offset: Int) {
        let e = Self.errors(Data(bytes))
        #expect(
            e.count == 1 && e[0].hasPrefix("l.yaml:\(line):\(column): error: byte 0x")
                && e[0].contains("at offset \(offset) is not UTF-8"), "\(e)")
    }

    @Test(arguments: [("workers: [cp]", 8), ("workers: [w, cp]", 8), ("workers:\n      - w\n      - cp", 10)])
    func aWorkerThatIsAlsoTheControlPlaneIsReportedAtTheWorker(_ workers: String, _ line: Int) {
        let e = Self.errors(
            Self.head + """
                machines: [{name: cp}, {name: w}]
                clusters:
                  - name: k
                    controlPlane: [cp]
                    \(workers)
                """)
        #expect(
            e.count == 1 && e[0].hasPrefix("l.yaml:\(line):")
                && e[0].contains("'cp' is both the control plane and a worker"), "\(e)")
    }
}
