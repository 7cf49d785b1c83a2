import Foundation

public enum LibvirtURI {
    /// A URI without a host part talks to this machine: `qemu:///system`, `test:///default`.
    public static func isLocal(_ uri: String) -> Bool {
        guard let r = uri.range(of: "://") else { return true }
        let rest = uri[r.upperBound...]
        return rest.hasPrefix("/")
    }

    public static func isTestDriver(_ uri: String) -> Bool { uri.hasPrefix("test:") }
}
