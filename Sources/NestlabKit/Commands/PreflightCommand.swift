import Foundation
import NestlabCore

public enum PreflightCommand {
    public static func run(file: String?, connect: String) async throws -> PreflightReport {
        if let file {
            var o = LabSession.Options()
            o.persistSecrets = false  // a check: it writes no key, token or CA
            let s = try LabSession.open(file: file, options: o)
            return try await Preflight.run(session: s)
        }
        let host = LabHost(name: LabHost.defaultName, libvirt: connect)
        return try await Preflight.run(host: host)
    }
}
