import Foundation
import Testing

@testable import NestlabKit

/// The hung-kernel check, fed with console lines as the scanner splits them. The hung boot is
/// the tail of a real TCG guest that stopped while enumerating PCI devices (CI, 2026-11-26).
@Suite struct BootStallTests {
    static let hungKernel = """
        [    1.300719] pci 0000:00:01.2: BAR 4 [io  0xc140-0xc15f]
        [    1.300719] pci 0000:00:01.3: [8086:7113] type 00 class 0x068000
        [    1.300719] pci 0000:00:01.3: quirk: [io  0x0600-0x063f] claimed by PIIX4 ACPI

        """
    static let intoInit = """
        [    3.489458] Freeing unused kernel image (rodata/data gap) memory: 1124K
        [    3.611868] Run /init as init process
        Loading, please wait...

        """

    static func lines(_ text: String) -> [String] {
        var s = ConsoleScanner()
        _ = s.feed(Data(text.utf8))
        return s.lastFed
    }

    @Test func silenceInTheKernelIsAStall() {
        var d = BootStallDetector(silence: 120)
        #expect(!d.stalled(at: 1000))  // nothing printed yet: QEMU may still be starting
        d.output(at: 10, lines: Self.lines(Self.hungKernel))
        #expect(d.inKernel)
        #expect(!d.stalled(at: 129))
        #expect(d.stalled(at: 130))
        #expect(d.lastLine == "[    1.300719] pci 0000:00:01.3: quirk: [io  0x0600-0x063f] claimed by PIIX4 ACPI")
    }

    @Test func outputWithoutANewlineStillCounts() {
        var d = BootStallDetector(silence: 120)
        d.output(at: 10, lines: Self.lines(Self.hungKernel))
        d.output(at: 100, lines: [])  // half a line arrived
        #expect(!d.stalled(at: 200))
        #expect(d.stalled(at: 220))
    }

    @Test func silenceAfterInitIsNotAStall() {
        var d = BootStallDetector(silence: 120)
        d.output(at: 10, lines: Self.lines(Self.hungKernel))
        d.output(at: 20, lines: Self.lines(Self.intoInit))
        #expect(!d.inKernel)
        #expect(!d.stalled(at: 10_000))  // cloud-init can be quiet for a long time
    }

    @Test(arguments: [
        "[    7.047664] systemd[1]: Inserted module 'autofs4'", "Welcome to Debian GNU/Linux 12 (bookworm)!",
        "[    2.0] Run /sbin/init as init process",
    ])
    func otherSignsOfInit(_ line: String) {
        var d = BootStallDetector(silence: 60)
        d.output(at: 0, lines: [line])
        #expect(!d.inKernel && !d.stalled(at: 600))
    }

    @Test func aResetStartsTheKernelClockAgain() {
        var d = BootStallDetector(silence: 120)
        d.output(at: 10, lines: Self.lines(Self.intoInit))
        d.restarted(at: 500)
        #expect(d.inKernel)
        #expect(!d.stalled(at: 600))
        #expect(d.stalled(at: 620))
    }
}
