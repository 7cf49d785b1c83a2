import Foundation
import Testing

@testable import NestlabCore

/// User-data emitted in pieces, with `write_files` shared through `WriteFilesMemo`, is the same
/// document, byte for byte, as the whole emitted at once; for every machine of the shipped
/// fixtures and for file lists chosen to stress the join.
@Suite struct WriteFilesMemoTests {
    static let fileLists: [[GuestFile]] = [
        [],
        [GuestFile(path: "/etc/a", mode: "0644", text: "one line\n")],
        // No final newline (strip chomping), trailing blank lines (keep chomping, which can leave
        // a document "open"), leading spaces (an indentation indicator), a YAML-looking text.
        [GuestFile(path: "/etc/b", mode: "0600", text: "no final newline")],
        [GuestFile(path: "/etc/c", mode: "0644", text: "kept\n\n\n")],
        [GuestFile(path: "/etc/d", mode: "0644", text: "  indented first line\nnext\n")],
        [GuestFile(path: "/etc/e", mode: "0644", text: "---\nkey: value\n...\n# comment\n", secret: true)],
        // Bytes that go as base64: a tab, a CR, not UTF-8.
        [
            GuestFile(path: "/etc/f", mode: "0755", text: "a\tb\r\n"),
            GuestFile(path: "/bin/g", mode: "0755", content: Data([0xff, 0x00, 0x80])),
        ],
        [
            GuestFile(path: "/etc/h", mode: "0644", text: "kept at the end\n\n"),
            GuestFile(path: "/etc/i", mode: "0644", text: "x\n"),
        ],
    ]

    @Test(arguments: RenderTests.cases)
    func piecesJoinToTheWholeDocument(_ fixture: String, _ hostKind: String) throws {
        let rendered = try RenderTests.render(
            Fixtures.url(fixture), facts: hostKind == "big" ? RenderTests.bigHost : RenderTests.ciHost)
        let memo = WriteFilesMemo()
        var compared = 0
        for files in Self.fileLists {
            for rm in rendered.machines {
                let input = CloudInitRenderer.Input(
                    machine: rm.machine, lab: rendered.lab.name, sshAuthorizedKeys: [RenderTests.sshKey], files: files,
                    commands: [["echo", "a b"], ["true"]])
                let whole = CloudInitRenderer.userData(input)
                #expect(
                    CloudInitRenderer.userData(input, memo: memo) == whole, "\(rm.machine.name) \(files.map(\.path))")
                compared += 1
            }
        }
        #expect(compared == Self.fileLists.count * rendered.machines.count && compared > 0)
    }

    /// The memo hands back what it emitted for an equal list, and emits again for a different one.
    @Test func theMemoEmitsOncePerDistinctList() {
        let memo = WriteFilesMemo()
        var emitted = 0
        for files in Self.fileLists + Self.fileLists {
            _ = memo.entry(for: files) {
                emitted += 1
                return "\(files.count)"
            }
        }
        #expect(emitted == Self.fileLists.count)
    }
}
