import Foundation

/// Collects a body in memory up to a limit.
final class MemorySink: BodySink {
    let limit: Int
    private(set) var body = Data()
    private(set) var overflowed = false
    var baseOffset: Int64 { 0 }

    init(limit: Int) {
        self.limit = limit
    }

    func begin(status: Int, headers: [HTTPHeader]) -> Bool { true }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            overflowed = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }
}
