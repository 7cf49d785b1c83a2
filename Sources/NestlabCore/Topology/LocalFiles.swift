import Foundation

/// Issue 21, class 9: local files the topology names (an image's `file`, `kernel` and
/// `initrd`) exist and are readable regular files, checked at `validate`, at their line,
/// rather than when `up` hashes them.
enum LocalFiles {
    static func check(_ t: Topology, _ d: inout Diagnostics) {
        for img in t.images {
            var files: [(key: String, path: String)] = []
            if case .file(let p) = img.source { files.append(("file", p)) }
            if let k = img.kernel { files.append(("kernel", k)) }
            if let i = img.initrd { files.append(("initrd", i)) }
            for (key, path) in files {
                // An empty path is an image whose source was already refused.
                guard !path.isEmpty, let problem = problem(path) else { continue }
                let p = "images.\(img.name).\(key)"
                d.error(
                    p, at: t.locations[p] ?? t.locations["images.\(img.name)"], "'\(shown(path))' \(problem)",
                    hint: "fix the path (a relative one is taken from the topology's folder), or create the file first")
            }
        }
    }

    /// What is wrong with a path that must be a readable regular file.
    static func problem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "does not exist" }
        if isDirectory.boolValue { return "is a directory, not a file" }
        // attributesOfItem does not follow links; a link to an image is fine.
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: target),
            attrs[.type] as? FileAttributeType == .typeRegular
        else { return "is not a regular file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "cannot be read (check its permissions)" }
        return nil
    }
}
