import Foundation

/// The outcome of a verified download.
public struct DownloadResult: Sendable, Equatable {
    /// The URL asked for.
    public var url: URL
    /// Where the verified file now is.
    public var path: URL
    /// Lower-case hex SHA-256 of the file.
    public var sha256: String
    public var size: Int64
    /// Requests made for the body (1 when nothing went wrong).
    public var attempts: Int
    /// Bytes taken from an earlier partial download rather than the network.
    public var resumedFrom: Int64
    public var elapsed: Duration
}
