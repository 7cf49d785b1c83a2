import Foundation
import Spawn
import Synchronization
import Testing

/// SpawnedProcess, the one way nestlab and its tests start programs.
///
/// The unit tier once stalled for 15 minutes: test HTTP servers started with Foundation's
/// Process held other Processes' exit-notification sockets (created without close-on-exec,
/// inherited through a race in the spawn), so `waitUntilExit` on the cooperative threads spun
/// until the servers ended by themselves. These tests pin the properties that prevent it.
@Suite struct SpawnedProcessTests {
    /// A long-lived child must not hold a descriptor the parent opened without close-on-exec:
    /// when the parent closes its end, the peer sees EOF at once.
    @Test func aLongLivedChildHoldsNothingOfTheParent() throws {
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]) }
        let child = try SpawnedProcess.start(["sleep", "60"])
        defer {
            child.signal(SIGKILL)
            child.wait()
        }
        close(pair[1])
        var poller = pollfd(fd: pair[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 5000) == 1, "no EOF: the child holds the socket's other end")
        var byte: UInt8 = 0
        #expect(read(pair[0], &byte, 1) == 0)
    }

    @Test func itsDescriptorsAreExactlyTheThreeStandardOnes() throws {
        let leaky = open("/dev/null", O_RDONLY)
        try #require(leaky > 2)
        defer { close(leaky) }
        let r = try SpawnedProcess.run(["sh", "-c", "ls /proc/$$/fd"])
        #expect(Set(r.output.split(separator: "\n").compactMap { Int32($0) }) == [0, 1, 2], "\(r.output)")
    }

    @Test func waitReportsTheExitCodeOrTheSignal() throws {
        let exited = try SpawnedProcess.start(["sh", "-c", "exit 7"])
        #expect(exited.wait() == 7)
        #expect(exited.wait() == 7, "a second wait answers the same")
        #expect(exited.terminationSignal == nil)
        let killed = try SpawnedProcess.start(["sleep", "60"])
        #expect(!killed.hasExited)
        killed.signal(SIGKILL)
        #expect(killed.wait() == 128 + SIGKILL)
        #expect(killed.terminationSignal == SIGKILL)
        #expect(killed.hasExited)
    }

    /// `signal` from another thread reaches a child that a `wait` is blocked on (the wait must not
    /// hold what `signal` needs until the child ends by itself).
    @Test func aSignalFromAnotherThreadEndsAWaitInProgress() throws {
        let child = try SpawnedProcess.start(["sleep", "60"])
        defer { kill(child.pid, SIGKILL) }
        let code = Mutex<Int32?>(nil)
        Thread { code.withLock { $0 = child.wait() } }.start()
        usleep(200_000)  // the waiter is blocked in wait() by now
        Thread { child.signal(SIGKILL) }.start()
        let deadline = Date().addingTimeInterval(20)
        while code.withLock({ $0 }) == nil && Date() < deadline { usleep(10_000) }
        #expect(code.withLock { $0 } == 128 + SIGKILL, "the signal did not reach the waited-for child")
    }

    /// Both pipes are read at once and stdin is written as they are: a program that writes a
    /// megabyte to each stream while reading a megabyte does not block.
    @Test func runReadsBothStreamsAndFeedsStdinWithoutBlocking() throws {
        let input = Data((0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let script = "head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero; cat | sha256sum"
        let r = try SpawnedProcess.run(["sh", "-c", script], input: input, timeout: 120)
        #expect(r.status == 0 && !r.timedOut)
        #expect(r.stderr.count == 1_048_576)
        let digest = String(decoding: r.stdout.suffix(from: 1_048_576), as: UTF8.self).prefix(64)
        let expected = try SpawnedProcess.run(["sha256sum", "-"], input: input).output.prefix(64)
        #expect(digest == expected)
    }

    /// A program that ends without reading its stdin: the rest of the input is dropped (EPIPE),
    /// and the caller, whatever its SIGPIPE disposition, carries on.
    @Test func aProgramThatIgnoresItsInputDoesNotEndTheCaller() throws {
        let r = try SpawnedProcess.run(["sh", "-c", "exit 3"], input: Data(count: 4 << 20), timeout: 60)
        #expect(r.status == 3 && !r.timedOut)
    }

    @Test func environmentAndDirectoryAreTheChildsOwn() throws {
        let r = try SpawnedProcess.run(
            ["/bin/sh", "-c", "pwd; echo \"$ONLY\"; env | wc -l"], environment: ["ONLY": "this"], directory: "/tmp")
        let lines = r.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.prefix(2) == ["/tmp", "this"])
        #expect(Int(lines.last ?? "") ?? 99 <= 4, "the given environment is the whole environment: \(r.output)")
    }

    /// A timeout ends the program and what it started (its process group), and says so.
    @Test func aTimeoutEndsTheProgramAndItsChildren() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent(
            "spawn-timeout-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let r = try SpawnedProcess.run(["sh", "-c", "sleep 60 & echo $! > \(marker); wait"], timeout: 1)
        #expect(r.timedOut && r.status == 124)
        #expect(r.seconds < 30)
        let grandchild = try #require(
            Int32(String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(grandchild, 0) != 0
            if !gone { usleep(50_000) }
        }
        #expect(gone, "the program's own child outlived the timeout")
    }

    @Test func aProgramThatDoesNotExistIsAnError() {
        #expect(throws: SpawnError.self) { try SpawnedProcess.start(["/nonexistent/program"]) }
    }

    /// The class, by its source: nothing in the project starts programs with Foundation's
    /// Process (its exit socket and run-loop reaping are what stalled CI).
    @Test func noFoundationProcessAnywhere() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var offenders: [String] = []
        // Foundation's Process by name, its waits, and its class constructors (this file excepted).
        let pattern = try NSRegularExpression(
            pattern: #"(?<![A-Za-z_])(Process\(|Process\.(run|launchedProcess)\b|waitUntilExit\b)"#)
        for folder in ["Sources", "Tests"] {
            let files = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)
            while let file = files?.nextObject() as? String {
                guard file.hasSuffix(".swift"), !file.hasSuffix("SpawnedProcessTests.swift") else { continue }
                let path = root.appendingPathComponent(folder).appendingPathComponent(file).path
                let text = try String(contentsOfFile: path, encoding: .utf8)
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let code = String(line.prefix { _ in true }).components(separatedBy: "//").first ?? ""
                    guard pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil else {
                        continue
                    }
                    offenders.append("\(folder)/\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(
            offenders.isEmpty,
            "start programs with SpawnedProcess, not Foundation's Process:\n\(offenders.joined(separator: "\n"))")
    }
}
