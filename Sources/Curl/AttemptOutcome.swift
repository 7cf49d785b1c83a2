// MARK: one attempt, on the transfer thread

/// What one attempt ended with.
struct AttemptOutcome: Sendable {
    enum Result: Sendable {
        /// The whole body is in the partial file; digest and size of the file.
        case complete(sha256: String, size: Int64)
        case httpStatus(Int)
        /// The partial could not be resumed and was truncated.
        case restart(String)
        case failed(TransferFailure)
        case error(CurlError)
    }

    var result: Result
    /// Bytes that were already on disk when the response started.
    var startOffset: Int64?
    /// New bytes written in this attempt.
    var bytesStored: Int64 = 0
}
