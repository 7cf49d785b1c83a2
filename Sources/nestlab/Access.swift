import ArgumentParser
import NestlabKit

extension Nestlab {
    struct SSH: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ssh",
            abstract: "Log in to a machine of a lab, or run one command there.",
            discussion: """
                Runs the system ssh with the lab's SSH config (the lab's key, the user nestlab, \
                and the lab's known_hosts with StrictHostKeyChecking yes: every VM's host key was \
                made by nestlab, so nothing is trusted on first use). A VM on a NAT network of a \
                remote host is reached through that host (ProxyJump). Without a command the \
                session is interactive; with one, nestlab's exit code is the command's (255 when \
                ssh itself fails). As with ssh, the command's words are joined with spaces and \
                run by the remote shell.

                Examples:
                  nestlab ssh ci vm-0
                  nestlab ssh ci vm-1 -- sudo cloud-init status --long
                """
        )

        @Argument(help: "The lab's name.")
        var lab: String

        @Argument(help: "The machine (a VM, or a bare-metal cluster node).")
        var machine: String

        @Argument(parsing: .postTerminator, help: "The command to run (after --).")
        var command: [String] = []

        func run() async throws {
            try AccessCommands.ssh(lab: lab, machine: machine, command: command)
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command on many machines of a lab at once.",
            discussion: """
                Each machine runs the command over ssh with the lab's SSH config (strict host key \
                checking, BatchMode). Text output prefixes every line with the machine's name as \
                it comes (stdout to stdout, stderr to stderr), then names each machine that \
                failed. --output json gives, per machine, stdout, stderr, exit code and duration. \
                nestlab's exit code is the worst (highest) of all; a machine that runs past \
                --timeout is ended and counts as 124.

                Examples:
                  nestlab exec ci -- hostname
                  nestlab exec ci --role vm --timeout 60 -- sudo apt-get -y install iperf3
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The lab's name.")
        var lab: String

        @Option(name: .long, help: ArgumentHelp("Only these machines (comma-separated).", valueName: "a,b"))
        var machines: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Only machines of this role: a machine group's name, control-plane, worker or baremetal.",
                valueName: "role"))
        var role: String?

        @Option(name: .long, help: ArgumentHelp("How many machines at once.", valueName: "n"))
        var parallel: Int = 16

        @Option(
            name: .long,
            help: ArgumentHelp("End a machine's command after this many seconds (exit 124).", valueName: "seconds"))
        var timeout: Double?

        @Argument(parsing: .postTerminator, help: "The command to run (after --).")
        var command: [String] = []

        func run() async throws {
            let list = machines.map { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
            let code = try await AccessCommands.exec(
                lab: lab, machines: list, role: role, parallel: parallel, timeout: timeout,
                command: command, format: global.output)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct ConsoleCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "console",
            abstract: "Attach to a VM's serial console through libvirt (Ctrl-] detaches).",
            discussion: """
                Works for VMs on local and remote hosts alike: the console comes over libvirt's \
                connection (virDomainOpenConsole), without SSH to the guest. The terminal is put \
                in raw mode while attached. Press Enter to get a login prompt.
                """
        )

        @Argument(help: "The lab's name.")
        var lab: String

        @Argument(help: "The VM.")
        var machine: String

        @Flag(name: .long, help: "Take the console over from another client that holds it.")
        var force = false

        @Flag(name: .long, help: "Allow stdin that is not a terminal (read as it is, not in raw mode).")
        var noTty = false

        func run() async throws {
            try ConsoleAttach.run(lab: lab, machine: machine, force: force, allowNonTTY: noTty)
        }
    }

    struct SSHConfigCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ssh-config",
            abstract: "Print an OpenSSH config for a lab's machines.",
            discussion: """
                A Host block per machine (its name, and LAB-NAME) with HostName, User, \
                IdentityFile, the lab's known_hosts and StrictHostKeyChecking yes, and a ProxyJump \
                where the machine is only reachable through its host. Save it and use it as:

                  nestlab ssh-config ci > ci.sshconfig
                  ssh -F ci.sshconfig vm-0
                """
        )

        @Argument(help: "The lab's name.")
        var lab: String

        func run() async throws {
            try AccessCommands.sshConfig(lab: lab)
        }
    }

    struct Inventory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an Ansible inventory of a lab.",
            discussion: """
                YAML by default. --list prints the JSON that a dynamic inventory script gives \
                (with _meta.hostvars) and --host NAME one machine's variables, so a two-line \
                script can serve as a dynamic inventory:

                  #!/bin/sh
                  exec nestlab inventory ci "$@"

                Groups: role_<role> (machine group, control-plane, worker, baremetal), \
                host_<host>, network_<network>, cluster_<cluster>, and all. Each host has \
                ansible_host, ansible_user, ansible_ssh_private_key_file and \
                ansible_ssh_common_args with the lab's known_hosts and strict host key checking.
                """
        )

        @Argument(help: "The lab's name.")
        var lab: String

        @Flag(name: .long, help: "Print the dynamic-inventory JSON of every host and group.")
        var list = false

        @Option(name: .long, help: ArgumentHelp("Print one machine's variables as JSON.", valueName: "name"))
        var host: String?

        func validate() throws {
            if list && host != nil { throw ValidationError("give --list or --host, not both") }
        }

        func run() async throws {
            try AccessCommands.inventory(lab: lab, form: host.map { .host($0) } ?? (list ? .list : .yaml))
        }
    }
}
