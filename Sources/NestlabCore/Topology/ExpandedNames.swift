import Foundation

/// Issue 21, class 8: the names nestlab derives from the topology (`count` suffixes, the lab
/// prefix) are checked as they will be used, against the limits of what receives them, at the
/// line of the name they come from.
enum ExpandedNames {
    /// A host name label (RFC 1123): the guest's host name and the Kubernetes node name.
    static let hostLabel = 63
    /// A fully qualified name: the guest's FQDN `MACHINE.LAB.nestlab`.
    static let fqdn = 253
    /// A file name (NAME_MAX): volumes `LAB-MACHINE.qcow2`, `LAB-MACHINE-seed-HASH.iso`, console logs.
    static let fileName = 255
    /// A Linux network interface name (IFNAMSIZ - 1): bridges.
    static let interface = 15

    static let interfaceHint = "an existing host bridge: at most 15 characters, without '/', ':' or spaces (e.g. br0)"

    /// What is wrong with a Linux interface name, as the kernel's `dev_valid_name` judges it.
    static func interfaceProblem(_ name: String) -> String? {
        if name.utf8.count > interface {
            return "is \(name.utf8.count) bytes long; Linux interface names have at most \(interface)"
        }
        if name == "." || name == ".." || name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) {
            return "is not a Linux interface name"
        }
        return nil
    }

    /// The names a machine instance gets, each with its limit.
    static func derived(lab: String, instance: String) -> [(what: String, name: String, limit: Int)] {
        [
            ("host name", instance, hostLabel),
            ("FQDN", "\(instance).\(lab).nestlab", fqdn),
            ("seed volume", "\(lab)-\(instance)-seed-\(String(repeating: "0", count: 12)).iso", fileName),
            ("console log", "\(lab)-\(instance)-console.log", fileName),
        ]
    }

    /// The first derived name over its limit, for a message.
    static func problem(lab: String, instance: String) -> String? {
        for (what, name, limit) in derived(lab: lab, instance: instance) where name.utf8.count > limit {
            return "its \(what) '\(shown(name))' is \(name.utf8.count) characters, more than the \(limit) allowed"
        }
        return nil
    }
}

extension TopologyValidator {
    /// Every machine instance's derived names fit their limits (a group's longest instance
    /// name is its last, `NAME-(count-1)`).
    func checkExpandedNames(_ d: inout Diagnostics) {
        for g in t.machines {
            guard let last = g.instanceNames.last, let problem = ExpandedNames.problem(lab: t.name, instance: last)
            else { continue }
            let p = "machines.\(g.name)"
            let suffix = last.count - g.name.count
            let room = ExpandedNames.hostLabel - suffix
            d.error(
                p, at: loc(p),
                g.count == nil
                    ? "machine '\(shown(g.name))': \(problem)"
                    : "machine '\(shown(last))' (count \(g.count!)): \(problem)",
                hint: suffix == 0
                    ? "at most \(room) characters" : "at most \(room) characters before the '-N' that count adds")
        }
    }
}
