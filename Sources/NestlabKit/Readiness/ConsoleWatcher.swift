import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// Reads one guest's serial console on a dedicated thread, keeps a copy in the lab's state
/// folder, and reports when the guest says it is ready. On a local host it follows the console
/// log that virtlogd writes; elsewhere it reads libvirt's console stream, which works for remote
/// hosts (the bytes come over libvirt's connection). See ``Source``.
///
/// Its reader thread, the stall timer and `wait`'s continuations share one state, behind a
/// `Mutex`; nothing is held while calling out (resuming a waiter, resetting a domain).
public final class ConsoleWatcher: Sendable {
    /// What the reader thread, the stall timer and the waiters share.
    private struct Shared: Sendable {
        var scanner = ConsoleScanner()
        var outcome: ReadyOutcome?
        var waiters: [CheckedContinuation<ReadyOutcome, Never>] = []
        var stream: Libvirt.Stream?
        var phases: [(name: String, status: String, detail: String)] = []
        var stall: BootStallDetector?
        var resets = 0
        var stallLoop = false
        var domain: Domain?
    }
    private let shared: Mutex<Shared>
    private let expectedInstance: String
    private let machine: String
    private let logFile: URL
    private let onPhase: @Sendable (String, String, String) -> Void
    private let stallPolicy: StallPolicy?

    public init(
        machine: String, expectedInstance: String, logFile: URL, stallPolicy: StallPolicy? = nil,
        logAppearance: TimeInterval = 10,
        onPhase: @escaping @Sendable (String, String, String) -> Void = { _, _, _ in }
    ) {
        self.machine = machine
        self.logAppearance = logAppearance
        self.expectedInstance = expectedInstance
        self.logFile = logFile
        self.onPhase = onPhase
        self.stallPolicy = stallPolicy
        shared = Mutex(Shared(stall: stallPolicy.map { BootStallDetector(silence: $0.silence) }))
    }

    static var now: TimeInterval { ProcessInfo.processInfo.systemUptime }

    /// The last console lines (for a failure report).
    public var tail: [String] { shared.withLock { $0.scanner.tail } }

    /// Node-script phases seen so far, in order.
    public var seenPhases: [(name: String, status: String, detail: String)] { shared.withLock { $0.phases } }

    /// Where a watcher reads the guest's console from.
    public enum Source: Sendable, Equatable {
        /// libvirt's console stream (`virDomainOpenConsole`): works for remote hosts too. While it
        /// is open, QEMU's serial port waits for this reader, so a guest kernel printing to its
        /// console runs no faster than nestlab reads.
        case stream
        /// The console log that virtlogd writes on a local host (the domain's serial `<log>`),
        /// read from byte `offset` on. Nobody holds the serial port: the guest never waits for us.
        case logFile(path: String, offset: UInt64)

        /// For the progress view: where the console is read from.
        public var summary: String {
            switch self {
            case .stream: "console: libvirt stream"
            case .logFile(let path, _): "console: \(path)"
            }
        }
    }

    /// Starts reading. Call right after the domain starts. `domain` is what a boot stall resets.
    public func start(domain: Domain?, source: Source = .stream) {
        shared.withLock { $0.domain = domain }
        let body: @Sendable () -> Void
        switch source {
        case .stream:
            guard let domain else {
                resolve(.consoleUnavailable("no domain to open a console on"))
                return
            }
            let stream: Libvirt.Stream
            do {
                stream = try domain.openConsole()
            } catch {
                resolve(.consoleUnavailable("\(error)"))
                return
            }
            shared.withLock { $0.stream = stream }
            body = { [self] in
                let copy = openCopy()
                defer { try? copy?.close() }
                readLoop(stream, copy: copy)
            }
        case .logFile(let path, let offset):
            body = { [self] in self.tailLoop(path: path, offset: offset) }
        }
        let thread = Thread(block: body)
        thread.name = "console \(machine)"
        thread.start()
    }

    /// The lab's own copy of the console, in the state folder.
    private func openCopy() -> FileHandle? {
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(
                atPath: logFile.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let log = try? FileHandle(forWritingTo: logFile)
        _ = try? log?.seekToEnd()
        return log
    }

    /// Keeps a copy of a chunk and scans it; true once there is an outcome.
    private func consume(_ chunk: Data, copy: FileHandle?) -> Bool {
        try? copy?.write(contentsOf: chunk)
        let events = shared.withLock { s in
            let e = s.scanner.feed(chunk)
            s.stall?.output(at: Self.now, lines: s.scanner.lastFed)
            return e
        }
        for e in events { handle(e) }
        return shared.withLock { $0.outcome != nil }
    }

    /// Reads the console stream until there is an outcome. A stream that ends first is opened
    /// again while the domain still runs on a live connection (a few times); otherwise, say
    /// when the host's libvirtd died, the watch ends with `consoleUnavailable` at once instead
    /// of waiting out the ready timeout.
    private func readLoop(_ first: Libvirt.Stream, copy: FileHandle?) {
        var stream = first
        var reopened = 0
        while true {
            var ended = "the console stream ended"
            while true {
                let chunk: Data?
                do { chunk = try stream.receive() } catch {
                    ended = "the console stream failed: \(error)"
                    break
                }
                guard let chunk, !chunk.isEmpty else { break }
                if consume(chunk, copy: copy) { return }
            }
            if shared.withLock({ $0.outcome != nil }) { return }
            let domain = shared.withLock { $0.domain }
            guard reopened < Self.maxReopens, let domain, domain.connection.isAlive(), (try? domain.isActive()) == true,
                let next = try? domain.openConsole(flags: .force)
            else {
                let alive = domain?.connection.isAlive() ?? false
                resolve(.consoleUnavailable(ended + (alive ? "" : " (the connection to libvirt is gone)")))
                return
            }
            reopened += 1
            shared.withLock { $0.stream = next }
            stream = next
        }
    }

    /// Looks for this instance's ready line in what the console printed before the watch began
    /// (a console log read through libvirt); resolves the watch when it is there.
    public func scanHistory(_ history: Data) {
        var scanner = ConsoleScanner()
        for case .ready(let iid, true, _) in scanner.feed(history + Data([0x0A])) where iid == expectedInstance {
            resolve(.ready(instance: iid))
            return
        }
    }

    /// How often a console stream that ended is opened again before the watch gives up.
    static let maxReopens = 3

    /// How often the log file is looked at once its end is reached.
    static let tailInterval: TimeInterval = 0.2
    /// How long a log that does not exist yet is waited for before the stream is used instead.
    private let logAppearance: TimeInterval

    /// Follows a log file the way `tail -F` does: from `offset`, across virtlogd's rotation
    /// (the file renamed to `.0` and a new one begun) and truncation, until there is an outcome.
    private func tailLoop(path: String, offset: UInt64) {
        let copy = openCopy()
        defer { try? copy?.close() }
        var fd: Int32 = -1
        var position = offset
        defer { if fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 65536)
        /// Reads what the open file holds past `position`; false on a read error.
        func drain() -> Bool {
            while fd >= 0 {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
                if n < 0 { return errno == EINTR }
                if n == 0 { return true }
                position += UInt64(n)
                if consume(Data(buffer[0..<n]), copy: copy) { return true }
            }
            return true
        }
        let began = Self.now
        var seen = false
        while shared.withLock({ $0.outcome == nil }) {
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                let failure = errno
                if fd >= 0 {
                    seen = true
                } else if !seen, failure != ENOENT || Self.now - began > logAppearance {
                    // Not ours to read (virtlogd made it root-only), or never written: use the stream.
                    readStreamInstead(path: path, failure: failure, copy: copy)
                    return
                }
            }
            guard drain() else {
                resolve(.consoleUnavailable("reading the console log \(path): \(String(cString: strerror(errno)))"))
                return
            }
            if shared.withLock({ $0.outcome != nil }) { break }
            var held = stat()
            var named = stat()
            if fd >= 0, fstat(fd, &held) == 0 {
                if stat(path, &named) != 0 || named.st_ino != held.st_ino || named.st_dev != held.st_dev {
                    // Rotated or removed: read what the old file got before that; the rest is in the new one.
                    _ = drain()
                    close(fd)
                    fd = -1
                    position = 0
                    continue
                }
                if UInt64(held.st_size) < position {
                    position = 0  // truncated in place
                    continue
                }
            }
            Thread.sleep(forTimeInterval: Self.tailInterval)
        }
    }

    /// Reads the console stream when the log at `path` cannot be read (`failure`, an errno).
    private func readStreamInstead(path: String, failure: Int32, copy: FileHandle?) {
        let reason = failure == ENOENT ? "did not appear" : String(cString: strerror(failure))
        let domain = shared.withLock { $0.domain }
        guard let domain else {
            resolve(.consoleUnavailable("cannot read the console log \(path): \(reason)"))
            return
        }
        do {
            let stream = try domain.openConsole()
            shared.withLock { $0.stream = stream }
            readLoop(stream, copy: copy)
        } catch {
            resolve(.consoleUnavailable("console log \(path): \(reason); console stream: \(error)"))
        }
    }

    private func handle(_ e: ConsoleEvent) {
        switch e {
        case .ready(let iid, let ok, let code):
            guard iid == expectedInstance else { return }  // an older boot's line
            if ok {
                resolve(.ready(instance: iid))
            } else {
                // The first failed phase is the cause; wrappers (bootstrap) report failure after it.
                let failed = shared.withLock { s in s.phases.first { $0.status == "failed" } }
                resolve(.failed(code: code, phase: failed?.name, detail: failed?.detail))
            }
        case .phase(let name, let status, let detail):
            shared.withLock { $0.phases.append((name, status, detail)) }
            onPhase(name, status, detail)
        case .kernelPanic(let line):
            resolve(.kernelPanic(line))
        }
    }

    public var currentOutcome: ReadyOutcome? { shared.withLock { $0.outcome } }

    func resolve(_ o: ReadyOutcome) {
        let (toResume, s): ([CheckedContinuation<ReadyOutcome, Never>], Libvirt.Stream?) = shared.withLock { s in
            guard s.outcome == nil else { return ([], nil) }
            s.outcome = o
            let w = s.waiters
            s.waiters = []
            return (w, s.stream)
        }
        for w in toResume { w.resume(returning: o) }
        if s != nil { DispatchQueue.global().async { try? s?.abort() } }
    }

    /// Looks for a hung kernel every few seconds; resets the guest, or gives up on it.
    private func checkStall() {
        enum Step {
            case none
            case reset(Domain?, String)
            case fail(ReadyOutcome)
        }
        let step: Step = shared.withLock { s in
            guard s.outcome == nil, let policy = stallPolicy, var d = s.stall, d.stalled(at: Self.now) else {
                return .none
            }
            let last = d.lastLine ?? ""
            if s.resets < policy.maxResets {
                s.resets += 1
                d.restarted(at: Self.now)
                s.stall = d
                return .reset(
                    s.domain,
                    "warning: \(machine): the guest kernel printed nothing for \(Int(policy.silence))s before starting init "
                        + "(last line: \(last)); resetting it (\(s.resets) of \(policy.maxResets))")
            }
            s.stall = nil
            return .fail(.bootStalled(lastLine: last, silence: Int(policy.silence), resets: s.resets))
        }
        switch step {
        case .none:
            break
        case .reset(let domain, let message):
            stallPolicy?.note(message)
            do { try domain?.reset() } catch { stallPolicy?.note("warning: \(machine): reset failed: \(error)") }
        case .fail(let o):
            resolve(o)
        }
        if shared.withLock({ $0.outcome == nil && $0.stall != nil }) {
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in self?.checkStall() }
        }
    }

    /// Waits for an outcome, at most `timeout` seconds.
    public func wait(timeout: TimeInterval) async -> ReadyOutcome {
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in self?.resolve(.timedOut) }
        // One stall check loop, however many waiters (the boot gate waits too).
        if stallPolicy != nil,
            shared.withLock({ s -> Bool in
                defer { s.stallLoop = true }
                return !s.stallLoop
            })
        {
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in self?.checkStall() }
        }
        return await withCheckedContinuation { c in
            let done: ReadyOutcome? = shared.withLock { s in
                if let o = s.outcome { return o }
                s.waiters.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Stops reading (Ctrl-C).
    public func cancel() { resolve(.timedOut) }
}
