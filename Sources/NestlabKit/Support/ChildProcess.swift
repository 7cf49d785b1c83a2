import Foundation
import Spawn

/// Runs the programs nestlab drives (ssh, kubectl, scp, tools) to their end, on a blocking
/// thread, through ``SpawnedProcess`` (posix_spawn, waitpid, nothing inherited but stdin,
/// stdout and stderr, a clean signal mask; see there why not Foundation's Process).
enum ChildProcess {
    struct Result {
        var status: Int32
        var tail: [String]
    }

    /// Runs argv with stdin from /dev/null and stdout and stderr merged, handing each line to
    /// `onLine`; the result keeps the last 30 lines.
    static func run(_ argv: [String], onLine: (String) -> Void) throws -> Result {
        let child: SpawnedProcess
        do {
            child = try SpawnedProcess.start(argv, stdout: .pipe, stderr: .stdout)
        } catch let error as SpawnError {
            throw HostError.system("cannot run \(error.program)", errno: error.code)
        }
        let fd = child.standardOutput!.fileDescriptor
        var tail: [String] = []
        var partial = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 8192)
        func emit(_ bytes: ArraySlice<UInt8>) {
            let line = String(decoding: bytes, as: UTF8.self)
            onLine(line)
            tail.append(line)
            if tail.count > 30 { tail.removeFirst() }
        }
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            partial += buf[0..<n]
            while let nl = partial.firstIndex(of: 0x0A) {
                emit(partial[0..<nl])
                partial.removeSubrange(0...nl)
            }
        }
        if !partial.isEmpty { emit(partial[...]) }
        return Result(status: child.wait(), tail: tail)
    }
}

extension ChildProcess {
    struct Captured: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The program ran past its time and was ended (SIGTERM, then SIGKILL after 2 s).
        var timedOut: Bool
        var seconds: Double
    }

    typealias Stream = SpawnedProcess.Stream

    /// Runs argv with stdin from `/dev/null`, and its stdout and stderr read apart; `onLine`
    /// sees each line as it comes. A run longer than `timeout` seconds is ended and reported as
    /// `timedOut` (status 124, as timeout(1) says). The program gets its own process group: a
    /// timeout ends ssh and whatever it started (a ProxyCommand).
    static func capture(
        _ argv: [String], timeout: Double? = nil, environment: [String: String]? = nil,
        onLine: ((Stream, String) -> Void)? = nil
    ) throws -> Captured {
        var partial: [Stream: [UInt8]] = [.stdout: [], .stderr: []]
        let finished: SpawnedProcess.Finished
        do {
            finished = try SpawnedProcess.run(argv, environment: environment, timeout: timeout, newProcessGroup: true) {
                stream, bytes in
                guard let onLine else { return }
                partial[stream, default: []] += bytes
                while let nl = partial[stream]!.firstIndex(of: 0x0A) {
                    onLine(stream, String(decoding: partial[stream]![..<nl], as: UTF8.self))
                    partial[stream]!.removeSubrange(0...nl)
                }
            }
        } catch let error as SpawnError {
            throw HostError.system("cannot run \(error.program)", errno: error.code)
        }
        if let onLine {
            for s in [Stream.stdout, .stderr] where !(partial[s] ?? []).isEmpty {
                onLine(s, String(decoding: partial[s]!, as: UTF8.self))
            }
        }
        return Captured(
            status: finished.status, stdout: finished.output, stderr: finished.errors,
            timedOut: finished.timedOut, seconds: finished.seconds)
    }
}
