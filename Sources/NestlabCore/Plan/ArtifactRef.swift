/// A file a testbed needs from the internet, with where it comes from.
public struct ArtifactRef: Sendable, Hashable, Codable {
    /// Stable name in the lock file, e.g. `kubernetes/kubeadm@1.33.4`.
    public var name: String
    public var url: String
    /// Whether upstream publishes `URL.sha256` next to it (dl.k8s.io, cri-tools).
    public var upstreamChecksum: Bool

    public init(name: String, url: String, upstreamChecksum: Bool) {
        self.name = name
        self.url = url
        self.upstreamChecksum = upstreamChecksum
    }
}
