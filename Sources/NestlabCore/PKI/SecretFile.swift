import Foundation

/// Writes secrets (keys, tokens, kubeconfigs) so that no other user can ever read them.
///
/// The file is created with its final mode by `open(2)`, filled, flushed, and renamed over
/// the target, so a reader sees either the old file or the complete new one, and the
/// secret never sits in a file with a wider mode (there is no chmod after the fact).
/// The process umask can only narrow the mode further.
///
/// POSIX calls come from the C library that Foundation re-exports; no C module of ours
/// is imported.
public enum SecretFile {
    /// Writes `data` to `url` atomically, creating the file with `mode` (default 0600).
    /// `durable: false` skips the two fsyncs, for output that can be made again (`plan --render`
    /// writes thousands of files, and the syncs were nine tenths of its time).
    public static func write(_ data: Data, to url: URL, mode: UInt16 = 0o600, durable: Bool = true)
        throws(SecretFileError)
    {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-" + randomSuffix()

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else { throw .system(operation: "create", path: temporary, errno: errno) }

        var failure: SecretFileError?
        let written = data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Bool in
            guard let base = buffer.baseAddress else { return true }  // nothing to write
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, base.advanced(by: offset), buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .system(operation: "write", path: temporary, errno: errno)
                    return false
                }
                offset += n
            }
            return true
        }
        if written, durable, fsync(fd) != 0 {
            failure = .system(operation: "fsync", path: temporary, errno: errno)
        }
        if close(fd) != 0, failure == nil {
            failure = .system(operation: "close", path: temporary, errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .system(operation: "rename", path: path, errno: code)
        }
        // Make the rename itself durable; failing to sync a directory loses nothing written.
        guard durable else { return }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            _ = close(dirFD)
        }
    }

    /// Writes `string` as UTF-8; see ``write(_:to:mode:durable:)``.
    public static func write(_ string: String, to url: URL, mode: UInt16 = 0o600, durable: Bool = true)
        throws(SecretFileError)
    {
        try write(Data(string.utf8), to: url, mode: mode, durable: durable)
    }

    /// Writes `data` to `url` as `write` does (not durable), unless the file is already exactly
    /// that: a regular file (not a link) owned by this user, with `mode` and these bytes. Files
    /// every `up` rewrites (known_hosts, the SSH config, access.json) then keep their time stamps,
    /// and a no-op `up` creates no inodes. Returns whether it wrote.
    @discardableResult
    public static func update(_ data: Data, at url: URL, mode: UInt16 = 0o600) throws(SecretFileError) -> Bool {
        if holds(data, at: url.path, mode: mode) { return false }
        try write(data, to: url, mode: mode, durable: false)
        return true
    }

    /// Whether `path` is a regular file of this user with exactly `mode` and `data`.
    private static func holds(_ data: Data, at path: String, mode: UInt16) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG), st.st_mode & 0o7777 == mode_t(mode),
            st.st_uid == geteuid(), st.st_size == off_t(data.count)
        else { return false }
        // One byte more than expected, so a file that grew since fstat is not taken as equal.
        let existing = try? FileHandle(fileDescriptor: fd, closeOnDealloc: false).read(upToCount: data.count + 1)
        return (existing ?? Data()) == data
    }

    /// Creates `url` and any missing parents with mode 0700 (existing directories keep theirs).
    public static func createPrivateDirectory(at url: URL) throws(SecretFileError) {
        var prefix = ""
        for component in url.standardizedFileURL.path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw .system(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    private static func randomSuffix() -> String {
        var rng = SystemRandomNumberGenerator()
        return hexString((0..<8).map { _ in UInt8.random(in: .min ... .max, using: &rng) })
    }
}
