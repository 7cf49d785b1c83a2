/// What a machine's guest gets beyond the base seed: node scripts, cluster material.
public struct GuestPayload: Sendable {
    public var files: [GuestFile]
    public var commands: [[String]]

    public init(files: [GuestFile] = [], commands: [[String]] = []) {
        self.files = files
        self.commands = commands
    }

    public static let empty = GuestPayload()
}
