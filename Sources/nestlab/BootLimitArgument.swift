import ArgumentParser
import NestlabKit

/// `--boot-limit auto|none|N` (up and rebuild).
struct BootLimitArgument: ExpressibleByArgument {
    static let help = ArgumentHelp(
        "How many VMs boot at once per host: auto (on a TCG host, only as many as its CPUs can run: a boot there slows down several times when vCPUs outnumber CPUs; no limit under KVM), none, or a number. VMs that wait start in the topology's order. Cluster members always boot together.",
        valueName: "auto|none|N")
    let value: BootLimit
    init(_ value: BootLimit) { self.value = value }
    init?(argument: String) {
        guard let v = BootLimit(argument: argument) else { return nil }
        value = v
    }
    var defaultValueDescription: String { value.description }
}
