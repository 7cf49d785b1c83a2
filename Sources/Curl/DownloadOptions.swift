/// Settings for a ``Downloader``.
public struct DownloadOptions: Sendable {
    /// Limit for establishing a connection.
    public var connectTimeout: Duration = .seconds(30)
    /// The low-speed limit: a transfer slower than `lowSpeedLimit` bytes per second for
    /// `lowSpeedTime` fails (and is retried). libcurl counts the time in whole seconds.
    public var lowSpeedLimit: Int = 1024
    public var lowSpeedTime: Duration = .seconds(30)
    /// Consecutive failed tries before a download gives up on transient failures
    /// (connection errors, timeouts, stalls, 5xx). A failed try that still extended the
    /// partial file starts a new count, so a download that keeps progressing over a flaky
    /// link is not abandoned; the total is capped at 20 times this number.
    public var maxAttempts: Int = 5
    /// Wait before the second attempt; doubles each time up to `maxBackoff` (±20% jitter).
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    /// Downloads that may run at the same time through one ``Downloader``.
    public var maxConcurrentTransfers: Int = 4
    /// libcurl's receive buffer; larger buffers mean fewer write and hash calls.
    public var bufferSize: Int = 512 * 1024
    public var proxy: ProxyPolicy = .environment
    /// A PEM CA bundle to trust instead of the system store (for a private mirror).
    public var caFile: String?
    public var userAgent: String = "nestlab"

    public init() {}
}
