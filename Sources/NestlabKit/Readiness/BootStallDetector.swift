import Foundation

/// Tells a guest kernel that hangs during boot from one that is merely slow.
///
/// Under TCG on a loaded host, a guest kernel now and then stops for good while it enumerates
/// devices: its console stops mid-line, and its printk clock no longer moves. A Linux kernel
/// prints without pause until it starts init, so a long silence before init is a hang. Once
/// init runs, silence means nothing (cloud-init and the node scripts write to logs, not to the
/// console), so the detector looks only at the kernel's part of the boot.
public struct BootStallDetector: Sendable {
    /// Seconds of console silence during the kernel's boot that count as a hang.
    public let silence: TimeInterval
    public private(set) var lastOutput: TimeInterval?
    public private(set) var inKernel = true
    public private(set) var lastLine: String?

    public init(silence: TimeInterval) { self.silence = silence }

    /// Lines that show the kernel has handed over to init (initramfs or the root file system).
    static func leavesKernel(_ line: String) -> Bool {
        line.contains("Run /init as init process") || line.contains("Run /sbin/init as init process")
            || line.contains("systemd[1]:") || line.hasPrefix("Welcome to ")
    }

    /// Console output arrived at `now` (monotonic seconds), with these complete lines.
    public mutating func output(at now: TimeInterval, lines: [String]) {
        lastOutput = now
        if let l = lines.last { lastLine = l }
        if inKernel && lines.contains(where: Self.leavesKernel) { inKernel = false }
    }

    /// The guest was reset at `now`: its kernel boots again.
    public mutating func restarted(at now: TimeInterval) {
        inKernel = true
        lastOutput = now
    }

    /// True when the kernel has printed something, has not reached init, and has been silent
    /// for `silence` seconds.
    public func stalled(at now: TimeInterval) -> Bool {
        guard inKernel, let last = lastOutput else { return false }
        return now - last >= silence
    }
}
