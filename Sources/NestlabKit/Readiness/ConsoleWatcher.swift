import Foundation
import Libvirt
import NestlabCore

/// The outcome of waiting for a guest.
public enum ReadyOutcome: Sendable, Equatable {
    case ready(instance: String)
    /// cloud-init finished with an error; the last failed node-script phase if one was reported.
    case failed(code: Int, phase: String?, detail: String?)
    case kernelPanic(String)
    case timedOut
    case consoleUnavailable(String)
    /// The kernel stopped printing before it started init, also after `resets` resets.
    case bootStalled(lastLine: String, silence: Int, resets: Int)
}

/// What a watcher does about a guest kernel that hangs during boot (see ``BootStallDetector``).
public struct StallPolicy: Sendable {
    /// Seconds of silence before init that count as a hang.
    public var silence: TimeInterval
    /// Resets to try before the machine counts as failed.
    public var maxResets: Int
    /// Told about each reset, for the progress view and the log.
    public var note: @Sendable (String) -> Void
    public init(silence: TimeInterval = 120, maxResets: Int = 1, note: @escaping @Sendable (String) -> Void = { _ in }) {
        self.silence = silence
        self.maxResets = maxResets
        self.note = note
    }
}

/// Reads one guest's serial console through libvirt on a dedicated thread,
/// keeps a copy in the lab's state folder, and reports when the guest says it
/// is ready. Works for remote hosts: the bytes come over libvirt's connection.
public final class ConsoleWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var scanner = ConsoleScanner()
    private var outcome: ReadyOutcome?
    private var waiters: [CheckedContinuation<ReadyOutcome, Never>] = []
    private var stream: Libvirt.Stream?
    private var phases: [(name: String, status: String, detail: String)] = []
    private let expectedInstance: String
    private let machine: String
    private let logFile: URL
    private let onPhase: @Sendable (String, String, String) -> Void
    private let stallPolicy: StallPolicy?
    private var stall: BootStallDetector?
    private var resets = 0
    private var stallLoop = false
    private var domain: Domain?

    public init(machine: String, expectedInstance: String, logFile: URL, stallPolicy: StallPolicy? = nil,
                onPhase: @escaping @Sendable (String, String, String) -> Void = { _, _, _ in }) {
        self.machine = machine
        self.expectedInstance = expectedInstance
        self.logFile = logFile
        self.onPhase = onPhase
        self.stallPolicy = stallPolicy
        self.stall = stallPolicy.map { BootStallDetector(silence: $0.silence) }
    }

    static var now: TimeInterval { ProcessInfo.processInfo.systemUptime }

    /// The last console lines (for a failure report).
    public var tail: [String] { lock.withLock { scanner.tail } }

    /// Node-script phases seen so far, in order.
    public var seenPhases: [(name: String, status: String, detail: String)] { lock.withLock { phases } }

    /// Opens the console and starts reading. Call right after the domain starts.
    public func start(domain: Domain) {
        let stream: Libvirt.Stream
        do {
            stream = try domain.openConsole()
        } catch {
            resolve(.consoleUnavailable("\(error)"))
            return
        }
        lock.withLock { self.stream = stream; self.domain = domain }
        let thread = Thread { [self] in self.readLoop(stream) }
        thread.name = "console \(machine)"
        thread.start()
    }

    private func readLoop(_ stream: Libvirt.Stream) {
        FileManager.default.createFile(atPath: logFile.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let log = try? FileHandle(forWritingTo: logFile)
        _ = try? log?.seekToEnd()
        defer { try? log?.close() }
        while true {
            let chunk: Data?
            do { chunk = try stream.receive() } catch { break }
            guard let chunk, !chunk.isEmpty else { break }
            try? log?.write(contentsOf: chunk)
            let events = lock.withLock {
                let e = scanner.feed(chunk)
                stall?.output(at: Self.now, lines: scanner.lastFed)
                return e
            }
            for e in events { handle(e) }
            if lock.withLock({ outcome != nil }) { break }
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
                let failed = lock.withLock { phases.first { $0.status == "failed" } }
                resolve(.failed(code: code, phase: failed?.name, detail: failed?.detail))
            }
        case .phase(let name, let status, let detail):
            lock.withLock { phases.append((name, status, detail)) }
            onPhase(name, status, detail)
        case .kernelPanic(let line):
            resolve(.kernelPanic(line))
        }
    }

    /// Feeds console text that was captured elsewhere (libvirt's console log file on a local host).
    /// The guest is past its kernel by then, or was never watched from its start: no stall check.
    public func scanExisting(_ data: Data) {
        let events = lock.withLock { stall = nil; return scanner.feed(data) }
        for e in events { handle(e) }
    }

    public var currentOutcome: ReadyOutcome? { lock.withLock { outcome } }

    func resolve(_ o: ReadyOutcome) {
        let (toResume, s): ([CheckedContinuation<ReadyOutcome, Never>], Libvirt.Stream?) = lock.withLock {
            guard outcome == nil else { return ([], nil) }
            outcome = o
            let w = waiters
            waiters = []
            return (w, stream)
        }
        for w in toResume { w.resume(returning: o) }
        if s != nil { DispatchQueue.global().async { try? s?.abort() } }
    }

    /// Looks for a hung kernel every few seconds; resets the guest, or gives up on it.
    private func checkStall() {
        enum Step { case none, reset(Domain?, String), fail(ReadyOutcome) }
        let step: Step = lock.withLock {
            guard outcome == nil, let policy = stallPolicy, var d = stall, d.stalled(at: Self.now) else { return .none }
            let last = d.lastLine ?? ""
            if resets < policy.maxResets {
                resets += 1
                d.restarted(at: Self.now)
                stall = d
                return .reset(domain, "warning: \(machine): the guest kernel printed nothing for \(Int(policy.silence))s before starting init "
                              + "(last line: \(last)); resetting it (\(resets) of \(policy.maxResets))")
            }
            stall = nil
            return .fail(.bootStalled(lastLine: last, silence: Int(policy.silence), resets: resets))
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
        if lock.withLock({ outcome == nil && stall != nil }) {
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in self?.checkStall() }
        }
    }

    /// Waits for an outcome, at most `timeout` seconds.
    public func wait(timeout: TimeInterval) async -> ReadyOutcome {
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in self?.resolve(.timedOut) }
        // One stall check loop, however many waiters (the boot gate waits too).
        if stallPolicy != nil, lock.withLock({ () -> Bool in defer { stallLoop = true }; return !stallLoop }) {
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in self?.checkStall() }
        }
        return await withCheckedContinuation { c in
            let done: ReadyOutcome? = lock.withLock {
                if let o = outcome { return o }
                waiters.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Stops reading (Ctrl-C).
    public func cancel() { resolve(.timedOut) }
}
