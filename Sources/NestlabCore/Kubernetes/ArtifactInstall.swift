/// One line of an artifact list (`/etc/nestlab/artifacts/<group>.tsv`), read by lib.sh's `nl_install_artifacts`.
public struct ArtifactInstall: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The download is the file itself.
        case file(destination: String, mode: UInt16)
        /// One member of a tarball.
        case member(String, destination: String, mode: UInt16)
        /// The whole tarball, unpacked into a directory.
        case extract(directory: String, stripComponents: Int)
    }
    public var artifact: Artifact
    public var kind: Kind

    public init(_ artifact: Artifact, _ kind: Kind) {
        self.artifact = artifact
        self.kind = kind
    }

    func line(mirror: String?) -> String {
        let url = artifact.resolvedURL(mirror: mirror)
        let columns: [String]
        switch kind {
        case .file(let destination, let mode):
            columns = [url, artifact.sha256, "file", destination, "-", String(mode, radix: 8)]
        case .member(let member, let destination, let mode):
            columns = [url, artifact.sha256, "member", destination, member, String(mode, radix: 8)]
        case .extract(let directory, let strip):
            columns = [url, artifact.sha256, "extract", directory, String(strip), "-"]
        }
        return columns.joined(separator: "\t")
    }

    static func render(_ installs: [ArtifactInstall], mirror: String?) -> String {
        "# url\tsha256\tkind\tdest\tmember\tmode (rendered by nestlab)\n"
            + installs.map { $0.line(mirror: mirror) + "\n" }.joined()
    }
}
