import Synchronization

/// Turns libcurl's frequent progress callbacks into throttled ``TransferProgress`` events.
final class ProgressTracker: Sendable {
    private struct State {
        var phase: TransferProgress.Phase = .running
        var started = false
        var totalBytes: Int64?
        var resumedFrom: Int64 = 0
        var baseOffset: Int64 = 0
        var bytesDone: Int64 = 0
        var attemptStart = ContinuousClock.now
        var lastEmit = ContinuousClock.now - .seconds(1)
    }

    private static let nextID = Atomic<Int>(1)

    let id: Int
    let label: String
    let url: String
    private let handler: ProgressHandler?
    private let start = ContinuousClock.now
    private let state = Mutex(State())
    private let interval: Duration

    init(label: String, url: String, handler: ProgressHandler?, interval: Duration = .milliseconds(100)) {
        id = ProgressTracker.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.label = label
        self.url = url
        self.handler = handler
        self.interval = interval
    }

    /// A new attempt begins with `offset` bytes already on disk.
    func beginAttempt(offset: Int64) {
        state.withLock {
            $0.baseOffset = offset
            $0.bytesDone = offset
            $0.attemptStart = .now
            if !$0.started { $0.resumedFrom = offset }
        }
    }

    /// The response arrived; the first call emits `.started`.
    func responded(offset: Int64, totalBytes: Int64?) {
        let event: TransferProgress? = state.withLock {
            $0.baseOffset = offset
            $0.bytesDone = offset
            if !$0.started { $0.resumedFrom = offset }
            if let totalBytes { $0.totalBytes = totalBytes }
            guard !$0.started else { return nil }
            $0.started = true
            $0.lastEmit = .now
            return snapshot($0, phase: .started)
        }
        if let event { handler?(event) }
    }

    /// libcurl reported `received` body bytes in this attempt.
    func received(_ received: Int64) {
        guard handler != nil else { return }
        let event: TransferProgress? = state.withLock {
            $0.bytesDone = $0.baseOffset + received
            let now = ContinuousClock.now
            guard $0.started, now - $0.lastEmit >= interval else { return nil }
            $0.lastEmit = now
            return snapshot($0, phase: .running)
        }
        if let event { handler?(event) }
    }

    func retrying(attempt: Int, delay: Duration, reason: String) {
        emit(.retrying(attempt: attempt, delay: delay, reason: reason))
    }

    func finished(size: Int64) {
        state.withLock {
            $0.bytesDone = size
            $0.totalBytes = size
        }
        emit(.finished)
    }

    func failed(_ message: String) {
        emit(.failed(message))
    }

    private func emit(_ phase: TransferProgress.Phase) {
        guard let handler else { return }
        let event = state.withLock { snapshot($0, phase: phase) }
        handler(event)
    }

    private func snapshot(_ state: State, phase: TransferProgress.Phase) -> TransferProgress {
        let now = ContinuousClock.now
        let attemptSeconds = (now - state.attemptStart).seconds
        let fresh = Double(state.bytesDone - state.baseOffset)
        let rate: Double
        if case .finished = phase {
            let total = (now - start).seconds
            rate = total > 0 ? Double(state.bytesDone - state.resumedFrom) / total : 0
        } else {
            rate = attemptSeconds > 0.05 ? fresh / attemptSeconds : 0
        }
        return TransferProgress(
            id: id, label: label, url: url, phase: phase, bytesDone: state.bytesDone,
            totalBytes: state.totalBytes, resumedFrom: state.resumedFrom,
            bytesPerSecond: rate, elapsed: now - start)
    }
}
