import Foundation

/// The node scripts shipped as package resources (`cloud-init/` in the repository).
public enum NodeScripts {
    public static let all = [
        "lib.sh", "bootstrap.sh", "node-prep.sh", "devmapper-pool.sh", "control-plane.sh", "join.sh", "kata.sh",
        "urunc.sh",
        "kubevirt.sh", "smoke-test.sh", "node-reset.sh",
    ]

    /// The URL of one script in the bundle.
    public static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: "Resources/cloud-init/\(name)", withExtension: nil) else {
            throw KubeError.missingScript(name)
        }
        return url
    }

    /// The bytes of one script.
    public static func content(_ name: String) throws -> [UInt8] {
        let url = try url(name)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw KubeError.missingScript(name) }
        return [UInt8](data)
    }

    /// The script as a node file under /usr/local/lib/nestlab (lib.sh is sourced, not run: 0644).
    public static func file(_ name: String) throws -> NodeFile {
        NodeFile(
            path: "\(NodePaths.scripts)/\(name)", mode: name == "lib.sh" ? 0o644 : 0o755, content: try content(name))
    }
}
