import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SpawnedProcess {
    /// Which of the child's output streams a chunk came from.
    public enum Stream: Sendable { case stdout, stderr }

    /// What a program that ran to its end left.
    public struct Finished: Sendable {
        /// The exit code, 128 + signal, or 124 when it ran past its time (as timeout(1) says).
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        public var timedOut: Bool
        public var seconds: Double

        public var output: String { String(decoding: stdout, as: UTF8.self) }
        public var errors: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `argv` to its end: `input` is its whole stdin (or /dev/null), and stdout and stderr
    /// are read apart, at the same time, so a chatty program never blocks on a full pipe.
    /// `onOutput` sees each chunk as it comes. A run longer than `timeout` seconds is sent
    /// SIGTERM, and SIGKILL 2 s later, in its own process group (so whatever it started ends
    /// too), and is reported as `timedOut`.
    public static func run(
        _ argv: [String], input: Data? = nil, environment: [String: String]? = nil,
        directory: String? = nil, timeout: Double? = nil, newProcessGroup: Bool = false,
        onOutput: ((Stream, ArraySlice<UInt8>) -> Void)? = nil
    ) throws -> Finished {
        let started = Date()
        let child = try start(
            argv, environment: environment, directory: directory,
            stdin: input == nil ? .null : .pipe, stdout: .pipe, stderr: .pipe,
            newProcessGroup: newProcessGroup || timeout != nil)
        var pending = input.map { [UInt8]($0)[...] } ?? []
        var fds = [
            child.standardOutput!.fileDescriptor, child.standardError!.fileDescriptor,
            child.standardInput?.fileDescriptor ?? -1,
        ]
        if fds[2] >= 0 {
            _ = fcntl(fds[2], F_SETFL, fcntl(fds[2], F_GETFL) | O_NONBLOCK)
            if pending.isEmpty {
                try? child.standardInput?.close()
                fds[2] = -1
            }
        }
        var collected: [[UInt8]] = [[], []]
        var timedOut = false
        var killAt: Date?
        var buffer = [UInt8](repeating: 0, count: 16384)
        while fds[0] >= 0 || fds[1] >= 0 {
            var wait: Int32 = -1
            if let timeout {
                let left = timeout - Date().timeIntervalSince(started)
                if left <= 0, !timedOut {
                    timedOut = true
                    child.signal(SIGTERM, toGroup: true)
                    killAt = Date().addingTimeInterval(2)
                }
                wait = timedOut ? 200 : Int32(min(left * 1000, 1000)) + 1
            }
            if let killAt, Date() >= killAt { child.signal(SIGKILL, toGroup: true) }
            var polled = fds.enumerated().map { index, fd in
                pollfd(fd: fd, events: Int16(index == 2 ? POLLOUT : POLLIN), revents: 0)
            }
            let n = poll(&polled, nfds_t(polled.count), wait)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { continue }
            readOutput(polled, &fds, &collected, &buffer, onOutput)
            if polled[2].fd >= 0 && polled[2].revents != 0 { writeInput(child, polled[2].fd, &fds, &pending) }
        }
        if fds[2] >= 0 { try? child.standardInput?.close() }
        let status = child.wait()
        return Finished(
            status: timedOut ? 124 : status, stdout: Data(collected[0]), stderr: Data(collected[1]),
            timedOut: timedOut, seconds: Date().timeIntervalSince(started))
    }

    /// Reads what stdout and stderr hold (`fds` 0 and 1), into `collected` and to `onOutput`;
    /// a stream at its end is marked -1 in `fds`.
    private static func readOutput(
        _ polled: [pollfd], _ fds: inout [Int32], _ collected: inout [[UInt8]], _ buffer: inout [UInt8],
        _ onOutput: ((Stream, ArraySlice<UInt8>) -> Void)?
    ) {
        for index in 0..<2 where polled[index].fd >= 0 && polled[index].revents != 0 {
            let r = read(polled[index].fd, &buffer, buffer.count)
            if r < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if r <= 0 {
                fds[index] = -1
            } else {
                collected[index] += buffer[0..<r]
                onOutput?(index == 0 ? .stdout : .stderr, buffer[0..<r])
            }
        }
    }

    /// Writes what of `pending` stdin (`fd`) takes now; closes it (-1 in `fds`) once all is
    /// written or it fails (EPIPE: the program ended without reading it all).
    private static func writeInput(
        _ child: SpawnedProcess, _ fd: Int32, _ fds: inout [Int32], _ pending: inout ArraySlice<UInt8>
    ) {
        let w = writeWithoutSIGPIPE(fd, pending)
        if w > 0 { pending = pending.dropFirst(w) }
        if pending.isEmpty || (w < 0 && errno != EAGAIN && errno != EINTR) {
            try? child.standardInput?.close()
            fds[2] = -1
        }
    }

    /// `write(2)` with SIGPIPE blocked on this thread, and a SIGPIPE it raised taken back: a
    /// program that ends without reading its input must not end the caller (a test runner keeps
    /// SIGPIPE's default action, and it killed the whole unit tier).
    private static func writeWithoutSIGPIPE(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var before = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &before)
        defer { pthread_sigmask(SIG_SETMASK, &before, nil) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let failure = errno
        if written < 0 && failure == EPIPE {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSignal, nil, &now)
        }
        errno = failure
        return written
    }
}
