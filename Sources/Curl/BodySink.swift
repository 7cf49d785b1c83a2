import Foundation

/// Receives a response body; called on the transfer thread only.
protocol BodySink: AnyObject {
    /// Called before the first body byte with the final response's status and headers.
    /// Return false to abort the transfer (the caller inspects the sink afterwards).
    func begin(status: Int, headers: [HTTPHeader]) -> Bool
    /// Return false to abort (e.g. a write error, which the sink records).
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Bytes of the resource already present before this request (resume offset).
    var baseOffset: Int64 { get }
}
