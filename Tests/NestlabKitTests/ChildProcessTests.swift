import Foundation
import Spawn
import Testing

@testable import NestlabKit

/// What a spawned program inherits: stdin, stdout and stderr, nothing else. A daemon that
/// inherited another spawn's pipe or Foundation.Process's exit-notification socket once kept
/// the unit tier waiting forever (two HTTP test servers' `waitUntilExit` spun on the only two
/// cooperative threads while a redis-server started at the same moment held their sockets).
@Suite struct ChildProcessTests {
    @Test func aChildInheritsOnlyItsThreeStandardDescriptors() throws {
        // A descriptor this process opened without O_CLOEXEC, as Foundation does for some of its own.
        let leaky = open("/dev/null", O_RDONLY)
        try #require(leaky > 2)
        defer { close(leaky) }
        for r in [try ChildProcess.capture(["sh", "-c", "ls /proc/$$/fd"], timeout: 30)] {
            #expect(r.status == 0, "\(r.stderr)")
            let fds = Set(r.stdout.split(separator: "\n").compactMap { Int32($0) })
            #expect(fds == [0, 1, 2], "the child's descriptors: \(fds.sorted()) (this process had \(leaky) open)")
        }
        var lines: [String] = []
        let run = try ChildProcess.run(["sh", "-c", "ls /proc/$$/fd"]) { lines.append($0) }
        #expect(run.status == 0)
        #expect(Set(lines.compactMap { Int32($0) }) == [0, 1, 2], "\(lines)")
    }

    @Test func itsPipesAreCloseOnExecFromTheStart() {
        var fds: [Int32] = [0, 0]
        #expect(SpawnedProcess.cloexecPipe(&fds) == 0)
        defer { for fd in fds { close(fd) } }
        for fd in fds { #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "fd \(fd)") }
    }
}
