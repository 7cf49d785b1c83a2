import Foundation
import Testing
import Yams

@testable import NestlabCore

/// Issue 21, class 6: every mapping of the topology schema refuses a key it does not know,
/// at the key's line, with "did you mean". The test finds every mapping of every shipped
/// topology (from the YAML itself, so a block added later is covered too), inserts an unknown
/// key into it, and expects the refusal at exactly the inserted line.
@Suite struct UnknownKeyTests {
    /// Mappings keyed by the user's own names (images, networks, profiles, runtimes, a
    /// machine's networks, handoff env): a new key is a new entry, refused for what it holds.
    static let namedEntries: Set<String> = ["images", "networks", "profiles", "runtimes", "network", "env"]
    static let env = ["HOME": "/home/researcher", "NESTLAB_TEST_IMAGE_DIR": "/srv/images"]

    struct Site: CustomStringConvertible {
        var file: String
        var line: Int
        var column: Int
        var parentKey: String
        var flow: Bool
        var empty: Bool
        var firstKey: String?
        var description: String { "\(file):\(line):\(column) (under '\(parentKey)')" }
    }

    /// Every mapping node of a document, with the key that holds it and where a key goes in.
    static func sites(_ node: Node, parentKey: String, file: String, lines: [Substring], into out: inout [Site]) {
        switch node {
        case .mapping(let m):
            let first = m.first { _ in true }
            let mark = first?.key.mark ?? m.mark
            let (line, column) = (mark?.line ?? 0, mark?.column ?? 0)
            // A flow mapping's first key follows its brace (Yams reports no reliable style).
            let before = Array(lines[line - 1])[..<(column - 1)].last { $0 != " " }
            out.append(
                Site(
                    file: file, line: line, column: column, parentKey: parentKey,
                    flow: before == "{", empty: first == nil, firstKey: first?.key.string))
            for (k, v) in m { sites(v, parentKey: k.string ?? "", file: file, lines: lines, into: &out) }
        case .sequence(let s):
            for v in s { sites(v, parentKey: parentKey, file: file, lines: lines, into: &out) }
        default:
            break
        }
    }

    /// The file with `key: 1` put in as the mapping's first key; it lands on the site's line.
    static func inserting(_ key: String, at site: Site, into lines: [Substring]) -> String {
        var l = lines.map(String.init)
        let line = Array(l[site.line - 1])
        if site.empty {
            // `{}`: the mapping's mark is its brace.
            l[site.line - 1] = String(line[..<site.column]) + "\(key): 1" + String(line[site.column...])
        } else if site.flow {
            l[site.line - 1] = String(line[..<(site.column - 1)]) + "\(key): 1, " + String(line[(site.column - 1)...])
        } else {
            let indent = String(repeating: " ", count: site.column - 1)
            l[site.line - 1] =
                String(line[..<(site.column - 1)]) + "\(key): 1\n" + indent + String(line[(site.column - 1)...])
        }
        return l.joined(separator: "\n")
    }

    static func errors(_ text: String, file: String) -> [String] {
        do {
            _ = try TopologyParser(environment: env).load(data: Data(text.utf8), file: file)
            return []
        } catch let e as TopologyError {
            return e.diagnostics.filter { $0.severity == .error }.map(\.description)
        } catch {
            return ["other: \(error)"]
        }
    }

    @Test func everyMappingOfEveryShippedTopologyRefusesAnUnknownKey() throws {
        var checked = 0
        var schemaBlocks = Set<String>()
        for (name, lines) in try TopologyFuzzTests.topologies() {
            let text = lines.joined(separator: "\n")
            #expect(Self.errors(text, file: name) == [], "\(name) must validate as shipped")
            var sites: [Site] = []
            Self.sites(
                try #require(try Yams.compose(yaml: text)), parentKey: "", file: name, lines: lines, into: &sites)
            for site in sites {
                let e = Self.errors(Self.inserting("nestlab-unknown", at: site, into: lines), file: name)
                let here = e.filter { $0.hasPrefix("\(name):\(site.line):") }
                #expect(!here.isEmpty, "\(site): no error at the inserted line: \(e)")
                checked += 1
                guard !Self.namedEntries.contains(site.parentKey) else { continue }
                schemaBlocks.insert(site.parentKey)
                #expect(here.contains { $0.contains("unknown key 'nestlab-unknown'") }, "\(site): \(here)")
                // A near miss of a real key gets a suggestion.
                if let key = site.firstKey, key.count >= 3 {
                    let typo = key + String(key.last!)
                    let t = Self.errors(Self.inserting(typo, at: site, into: lines), file: name)
                    #expect(
                        t.contains { $0.hasPrefix("\(name):\(site.line):") && $0.contains("did you mean '\(key)'?") },
                        "\(site) \(typo): \(t)")
                }
            }
        }
        #expect(checked > 100)
        // The blocks issue 21 named: runtimes' own settings, cluster, kubelet, Kata, network, host, machine.
        for block in ["", "runc", "kata", "urunc", "kubevirt", "kubelet", "cni", "lab", "cpu", "memory", "handoff"] {
            #expect(schemaBlocks.contains(block), "no mapping under '\(block)' was checked")
        }
    }

    @Test(arguments: [
        "runc: {debug: true}", "crun: {systemdCgroup: false}", "kata: {verison: 3.20.0}",
        "urunc: {monitor: [qemu]}", "kubevirt: {emulate: on}",
    ])
    func runtimeSettingsAreChecked(_ runtime: String) {
        let e = HostileInputTests.errors(HostileInputTests.cluster(runtime))
        #expect(e.count == 1 && e[0].hasPrefix("h.yaml:11:") && e[0].contains("unknown key"), "\(e)")
    }
}
