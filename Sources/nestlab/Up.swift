import ArgumentParser
import NestlabKit

extension Nestlab {
    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or converge a lab: networks, images, disks, seeds and VMs, then wait for the guests.",
            discussion: """
                Connects to every host of the lab first: a host that cannot be reached fails up before \
                anything is created anywhere. Runs preflight and refuses to start when a host is not \
                ready. Then, on all hosts at once: storage pools, networks and base images (a volume \
                that has an image's name but not its content is replaced, and up says so); then, per \
                machine and in parallel (--parallel per host): a qcow2 \
                overlay on the base image, a cloud-init seed, the domain (tagged with the lab in its \
                metadata), and start (on a TCG host only as many VMs at once as its CPUs can run; \
                see --boot-limit). up returns when every guest has reported on its serial console \
                that cloud-init finished, or fails with the console's last lines.

                Running up again changes nothing when libvirt already matches the topology. A machine \
                whose spec differs is reported with what differs, and recreated only with --recreate. \
                After a failure everything created is tagged: `nestlab down` removes it, `up` resumes.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The topology file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        @Option(name: .long, help: "How many machines to prepare at once on each host.")
        var parallel: Int = 4

        @Flag(name: .long, help: "Recreate machines whose spec differs from the topology (their disks are lost).")
        var recreate = false

        @OptionGroup(title: "Waiting for the guests") var wait: WaitOptions

        @Flag(name: .long, help: "Skip the host preflight checks.")
        var skipPreflight = false

        @Flag(name: .long, help: "Then run the topology's hand-off command (see `nestlab handoff`).")
        var handoff = false

        func validate() throws {
            guard parallel >= 1 && parallel <= 64 else { throw ValidationError("--parallel must be from 1 to 64") }
        }

        func run() async throws {
            var o = wait.upOptions
            o.parallel = parallel
            o.recreate = recreate
            try await LifecycleCommands.up(
                file: file, options: o,
                flags: RunFlags(format: global.output, plain: global.plain, verbose: global.verbose),
                skipPreflight: skipPreflight, handoff: handoff)
        }
    }
}
