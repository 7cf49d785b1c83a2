import Foundation

/// How each machine is reached: known_hosts (the keys nestlab made, and the keys of the hosts it
/// reaches over SSH), the SSH config and access.json, written before anything boots.
struct WriteAccessFiles: UpStep {
    let name = "write access files"

    func run(_ context: UpContext) async throws {
        let s = context.s
        let access = LabAccess(lab: s.lab, state: s.state)
        let (external, notes) = await access.readExternalKeys()
        for n in notes { context.progress.note(n) }
        try access.write(hostKeys: s.secrets.hostKeys, external: external)
    }
}
