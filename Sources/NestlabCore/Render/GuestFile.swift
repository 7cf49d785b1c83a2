import Foundation

/// A file cloud-init writes into the guest (or nestlab copies to a bare-metal node).
public struct GuestFile: Sendable, Hashable {
    public var path: String
    public var mode: String
    public var content: Data
    /// Secrets (CA key, tokens) are marked so that they never reach logs or `plan` output.
    public var secret: Bool

    public init(path: String, mode: String, content: Data, secret: Bool = false) {
        self.path = path
        self.mode = mode
        self.content = content
        self.secret = secret
    }

    public init(path: String, mode: String, text: String, secret: Bool = false) {
        self.init(path: path, mode: mode, content: Data(text.utf8), secret: secret)
    }
}
