import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Preflight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check that the hosts can run the lab: libvirt, KVM, nested virtualization, hugepages, CPUs, tools.",
            discussion: """
                Each finding is ok, warning or error, and carries the command that fixes it. KVM \
                counts only when the CPU has vmx/svm and a probe guest actually runs (a /dev/kvm that \
                exists but hangs guests is reported as such). Without a file, checks the local host. \
                Exit code 1 when there are errors. up runs these checks first.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A topology file (default: check qemu:///system on this machine).")
        var file: String?

        @Option(name: .long, help: ArgumentHelp("libvirt URI to check when no file is given.", valueName: "uri"))
        var connect: String = "qemu:///system"

        func run() async throws {
            let report = try await PreflightCommand.run(file: file, connect: connect)
            switch global.output {
            case .json: Console.out(try JSONOutput.string(report))
            case .text: Console.out(report.text())
            }
            if report.hasErrors { throw ExitCode(1) }
        }
    }
}
