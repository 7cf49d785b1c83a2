import Foundation
import Libvirt
import NestlabCore
import Spawn

/// Runs a 512-byte guest under KVM to see that KVM really executes code.
///
/// `/dev/kvm` can exist and open, yet hang every guest (nested KVM broken on the
/// host's own hypervisor). The probe boots a boot sector that writes "NLOK" to the
/// serial port and halts; if QEMU with `-accel kvm` does not print it within a few
/// seconds, KVM does not work.
enum KVMProbe {
    struct Result {
        var ok: Bool
        var detail: String
    }

    /// x86 real-mode boot sector: mov dx,0x3f8; for each of "NLOK": mov al,c; out dx,al; then cli; hlt.
    static var bootSector: Data {
        var b: [UInt8] = [0xBA, 0xF8, 0x03]
        for c in "NLOK\n".utf8 { b += [0xB0, c, 0xEE] }
        b += [0xFA, 0xF4, 0xEB, 0xFD]
        b += [UInt8](repeating: 0, count: 510 - b.count)
        b += [0x55, 0xAA]
        return Data(b)
    }

    /// nil when QEMU is not installed here (the check is then skipped).
    static func run(timeout: TimeInterval = 10) -> Result? {
        guard let qemu = Preflight.which("qemu-system-x86_64") else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nestlab-kvmprobe-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let img = dir.appendingPathComponent("boot.img")
        guard (try? bootSector.write(to: img)) != nil else { return nil }
        let argv = [
            qemu, "-accel", "kvm", "-machine", "pc", "-m", "16", "-display", "none", "-nodefaults", "-no-user-config",
            "-serial", "stdio", "-drive", "file=\(img.path),format=raw,if=ide", "-no-reboot",
        ]
        let child: SpawnedProcess
        do { child = try SpawnedProcess.start(argv, stdout: .pipe, stderr: .null) } catch {
            return Result(ok: false, detail: "cannot run \(qemu): \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var seen = Data()
        let fd = child.standardOutput!.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        while Date() < deadline && !child.hasExited {
            var buf = [UInt8](repeating: 0, count: 256)
            let n = read(fd, &buf, buf.count)
            if n > 0 { seen.append(contentsOf: buf[0..<n]) }
            if String(decoding: seen, as: UTF8.self).contains("NLOK") { break }
            usleep(50_000)
        }
        child.signal(SIGKILL)
        child.wait()
        if String(decoding: seen, as: UTF8.self).contains("NLOK") {
            return Result(ok: true, detail: "KVM ran a probe guest (vmx/svm present, /dev/kvm usable)")
        }
        return Result(ok: false, detail: "a probe guest under KVM printed nothing within \(Int(timeout))s (KVM hangs)")
    }
}
