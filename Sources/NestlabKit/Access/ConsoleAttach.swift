import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// `nestlab console LAB MACHINE`: the guest's serial console through libvirt
/// (`virDomainOpenConsole`), on a local or a remote host alike. The terminal is put in raw
/// mode; `Ctrl-]` detaches, as with `virsh console`.
public enum ConsoleAttach {
    /// The byte that detaches (`Ctrl-]`, GS).
    static let escape: UInt8 = 0x1d

    public static func run(lab: String, machine: String, force: Bool, allowNonTTY: Bool) throws {
        let access = try AccessCommands.load(lab: lab)
        let m = try AccessCommands.machine(machine, in: access)
        guard m.kind == .vm, let uri = m.libvirt, let domainName = m.domain else {
            throw UsageError(
                "'\(m.name)' is a bare-metal host: it has no console nestlab can reach (use nestlab ssh \(lab) \(m.name))"
            )
        }
        let tty = isatty(STDIN_FILENO) == 1
        guard tty || allowNonTTY else {
            throw UsageError(
                "nestlab console needs a terminal on stdin (Ctrl-] detaches); give --no-tty to read stdin as it is")
        }
        let (connection, stream) = try openStream(m, uri: uri, domainName: domainName, force: force)
        _ = connection
        Console.err("Connected to \(m.name) (domain \(domainName) on host '\(m.host)'). Escape character is ^]")
        var saved = termios()
        let raw = tty && tcgetattr(STDIN_FILENO, &saved) == 0
        if raw {
            var t = saved
            cfmakeraw(&t)
            tcsetattr(STDIN_FILENO, TCSANOW, &t)
        }
        defer {
            if raw { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        }
        let ended = Mutex<String?>(nil)
        // The guest's bytes: a thread blocked in the stream's receive, until the stream ends.
        let reader = Thread {
            do {
                while let chunk = try stream.receive(maxLength: 64 * 1024) { Console.outRaw(chunk) }
                ended.withLock { $0 = $0 ?? "the console closed" }
            } catch {
                ended.withLock { $0 = $0 ?? "the console closed: \(error)" }
            }
        }
        reader.start()
        forwardInput(to: stream, ended: ended)
        try? stream.abort()
        let why = ended.withLock { $0 } ?? "detached"
        if raw { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        Console.err("\r\n" + (why == "detached" ? "Detached from \(m.name)." : "\(m.name): \(why)."))
        if why != "detached" && !why.hasPrefix("the console closed") { throw OperationError("\(m.name): \(why)") }
    }

    private static func openStream(
        _ m: MachineAccess, uri: String, domainName: String, force: Bool
    ) throws -> (Connection, Libvirt.Stream) {
        do {
            let connection = try Connection(uri: uri)
            let domain = try connection.domain(named: domainName)
            guard try domain.state().state == .running else {
                throw OperationError("machine '\(m.name)' is not running (domain \(domainName) on host '\(m.host)')")
            }
            return (connection, try domain.openConsole(flags: force ? [.force] : []))
        } catch let e as LibvirtError {
            var text =
                "cannot open the console of '\(m.name)' (domain \(domainName) on host '\(m.host)', \(uri)): \(e.message)"
            if e.message.contains("Active console session") {
                text +=
                    "; another client holds it (a running `nestlab up` watches it on remote hosts): give --force to take it over"
            }
            throw OperationError(text)
        }
    }

    /// Sends stdin to the console until it ends, or `Ctrl-]` detaches.
    private static func forwardInput(to stream: Libvirt.Stream, ended: borrowing Mutex<String?>) {
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)]
        var buf = [UInt8](repeating: 0, count: 4096)
        var stdinOpen = true
        while ended.withLock({ $0 }) == nil {
            guard stdinOpen else {
                usleep(100_000)
                continue
            }
            let n = poll(&fds, 1, 200)
            if n <= 0 { continue }
            let r = read(STDIN_FILENO, &buf, buf.count)
            if r < 0 && errno == EINTR { continue }
            if r <= 0 {
                // End of input (non-tty use): keep showing the console until it closes or Ctrl-C.
                stdinOpen = false
                continue
            }
            let bytes = buf[0..<r]
            if let i = bytes.firstIndex(of: escape) {
                if i > bytes.startIndex { try? stream.send(Data(bytes[..<i])) }
                ended.withLock { $0 = "detached" }
                break
            }
            do {
                try stream.send(Data(bytes))
            } catch {
                ended.withLock { $0 = $0 ?? "cannot write to the console: \(error)" }
            }
        }
    }
}
