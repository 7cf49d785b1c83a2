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

    public init(machine: String, expectedInstance: String, logFile: URL,
                onPhase: @escaping @Sendable (String, String, String) -> Void = { _, _, _ in }) {
        self.machine = machine
        self.expectedInstance = expectedInstance
        self.logFile = logFile
        self.onPhase = onPhase
    }

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
        lock.withLock { self.stream = stream }
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
            let events = lock.withLock { scanner.feed(chunk) }
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
    public func scanExisting(_ data: Data) {
        let events = lock.withLock { scanner.feed(data) }
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

    /// Waits for an outcome, at most `timeout` seconds.
    public func wait(timeout: TimeInterval) async -> ReadyOutcome {
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [weak self] in self?.resolve(.timedOut) }
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
