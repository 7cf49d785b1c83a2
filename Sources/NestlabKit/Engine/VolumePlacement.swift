import Foundation
import Libvirt
import NestlabCore

extension HostSession {
    /// Makes the volume `name` in `pool` hold exactly `content`.
    ///
    /// A volume of that name is checked first (``VolumeContent/mismatch(in:localPath:)``) and
    /// replaced when it differs. Local hosts: the bytes are copied next to the pool's files
    /// under a temporary name and renamed into place. Remote hosts: everything but the first
    /// 64 KiB is uploaded into `NAME.partial`, which libvirt copies byte for byte to `NAME`;
    /// the first 64 KiB go in last, so a volume under the final name that an interruption
    /// left behind has no header and fails the check. The placed volume is checked before it
    /// is returned.
    public func ensureVolume(
        pool: StoragePool, poolPath: String, name: String, content: VolumeContent, mode: String,
        progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> (volume: StorageVolume, outcome: PlacementOutcome) {
        try ErrorWithContext.wrap("placing volume \(name) on host '\(host.name)' (\(host.libvirt))") {
            let localPath = canWriteLocally(poolPath: poolPath) ? "\(poolPath)/\(name)" : nil
            var outcome = PlacementOutcome.placed
            if let v = try pool.volumeIfExists(named: name) {
                guard let why = try content.mismatch(in: v, localPath: localPath) else { return (v, .present) }
                try v.delete()
                outcome = .replaced(why)
            }
            let report = { (sent: UInt64) -> Void in progress?(sent, content.bytes) }
            if let localPath {
                try placeLocally(
                    pool: pool, path: localPath, name: name, content: content, mode: mode, progress: report)
            } else {
                try placeRemotely(pool: pool, name: name, content: content, mode: mode, progress: report)
            }
            return (try verifyPlaced(pool: pool, name: name, content: content, localPath: localPath), outcome)
        }
    }

    private func placeLocally(
        pool: StoragePool, path: String, name: String, content: VolumeContent, mode: String,
        progress: @escaping (UInt64) -> Void
    ) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = "\(dir)/.\(name).partial-\(getpid())"
        let m = mode_t(mode, radix: 8) ?? 0o600
        switch content.source {
        case .file(let file): try FileCopy.copy(from: file, to: tmp, mode: m, progress: progress)
        case .data(let data): try SecretFile.write(data, to: URL(fileURLWithPath: tmp), mode: UInt16(m))
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw HostError.system("cannot rename \(tmp) to \(path)", errno: e)
        }
        refreshWhenIdle(pool)
        if try pool.volumeIfExists(named: name) == nil {
            // The test driver does not scan folders: register the volume by XML, the file is already in place.
            _ = try pool.createVolume(
                xml: StorageRenderer.file(
                    name: name, capacity: content.virtualSize, format: content.format,
                    mode: mode
                ).render())
        }
    }

    /// Rescans a pool's folder. libvirt refuses while a volume of the pool is being built or
    /// uploaded (another machine's overlay or seed): wait for that, a few seconds at most.
    private func refreshWhenIdle(_ pool: StoragePool) {
        for _ in 0..<40 {
            do {
                try pool.refresh()
                return
            } catch {
                usleep(250_000)
            }
        }
    }

    private func placeRemotely(
        pool: StoragePool, name: String, content: VolumeContent, mode: String,
        progress: @escaping (UInt64) -> Void
    ) throws {
        let head = min(VolumeContent.edge, content.bytes)
        let partialName = name + ".partial"
        if let stale = try pool.volumeIfExists(named: partialName) { try stale.delete() }
        let raw = { (n: String) in StorageRenderer.raw(name: n, bytes: content.bytes, mode: mode).render() }
        let partial = try pool.createVolume(xml: raw(partialName))
        defer { try? partial.delete() }
        try content.upload(head..<content.bytes, into: partial) { progress(head + $0) }
        let final = try pool.createVolume(xml: raw(name), cloningFrom: partial)
        do {
            try content.upload(0..<head, into: final, progress: nil)
        } catch {
            try? final.delete()
            throw error
        }
        progress(content.bytes)
    }

    /// The placed volume, once libvirt reports it as the content. libvirt refreshes a pool
    /// after an upload on a thread of its own, so its format can lag for a moment.
    private func verifyPlaced(pool: StoragePool, name: String, content: VolumeContent, localPath: String?) throws
        -> StorageVolume
    {
        var why = ""
        for attempt in 0..<20 {
            if attempt > 0 {
                usleep(250_000)
                try? pool.refresh()  // refused while uploads into the pool run; libvirt's own refresh catches up
            }
            let v = try pool.volume(named: name)
            guard let w = try content.mismatch(in: v, localPath: localPath) else { return v }
            why = w
        }
        throw HostError.placementUnverified(volume: name, host: host.name, reason: why)
    }

    /// Makes the machine's qcow2 overlay exist on `backingPath`: an overlay of that name on
    /// another base, of another format or over a base of another format is deleted and made anew.
    public func ensureOverlay(
        pool: StoragePool, xml: XMLElement, name: String, backingPath: String,
        backingFormat: String
    ) throws -> Bool {
        try ErrorWithContext.wrap("creating overlay \(name) on \(host.name)") {
            if let v = try pool.volumeIfExists(named: name) {
                let f = try VolumeDescription(xml: try v.xmlDesc(), of: name)
                if f.format == "qcow2", let backing = f.backingStore, backing.path == backingPath,
                    backing.format == nil || backing.format == backingFormat
                {
                    return false
                }
                // Another base (the image changed), or not an overlay at all: the machine's disk is made anew.
                try v.delete()
            }
            _ = try pool.createVolume(xml: xml.render())
            return true
        }
    }
}
