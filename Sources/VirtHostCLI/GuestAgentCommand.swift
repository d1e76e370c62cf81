import ArgumentParser
import Foundation
import SwiftProtobuf
import VirtHostClient

/// `virthost agent ...`: the guest agent inside a machine, like
/// virsh qemu-agent-command, domifaddr --source agent, domfsinfo, domtime...
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "The qemu guest agent inside a running machine.",
        discussion: """
            --timeout S sets the call's deadline; virthostd passes it on to libvirt, so a guest \
            agent that does not answer gives DEADLINE_EXCEEDED in time and the next call works.
            """,
        subcommands: [
            Command.self, Ping.self, Info.self, OSInfo.self, HostName.self, Interfaces.self, FSInfo.self, Users.self,
            Time.self, Exec.self, Freeze.self, Thaw.self, FSStatus.self,
        ])

    /// `--timeout S`: the call's deadline.
    struct TimeoutOption: ParsableArguments {
        @Option(help: "Seconds to wait for the guest agent (the call's deadline; default: libvirt's 5 s).")
        var timeout: Double?

        func validate() throws {
            if let timeout, !(timeout > 0 && timeout <= 86_400) {
                throw ValidationError("--timeout must be more than 0 and at most 86400 seconds")
            }
        }

        var duration: Duration? { timeout.map { .milliseconds(Int64(($0 * 1000).rounded(.up))) } }
    }

    struct Command: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "command", abstract: "Send a JSON command to the guest agent and print its reply (like virsh qemu-agent-command --pretty).",
            discussion: """
                Example: virthost agent command web-1 '{"execute":"guest-info"}'
                The reply is printed indented, keys in the agent's order; with --json it is printed unchanged.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Argument(help: "The command: {\"execute\": \"guest-...\", \"arguments\": {...}}.") var json: String
        @OptionGroup var wait: TimeoutOption
        @Flag(help: "Wait for the reply without a limit (libvirt's block mode).") var block = false
        @Flag(name: .customLong("async"), help: "Do not wait for a reply (libvirt's no-wait mode).") var noWait = false

        func validate() throws {
            let modes = [block, noWait, wait.timeout != nil].filter { $0 }.count
            guard modes <= 1 else { throw ValidationError("--timeout, --block and --async exclude each other") }
        }

        func run() async throws {
            let mode: Virthost_V1_AgentTimeoutMode = block ? .block : noWait ? .nowait : .deadline
            let reply = try await options.withClient {
                try await $0.agentCommand(domain: domain, json: json, timeout: wait.duration, mode: mode)
            }
            Output.line(options.json ? reply : PrettyJSON.indent(reply))
        }
    }

    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ping", abstract: "Check that the guest agent answers (guest-ping).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let latency = try await options.withClient { try await $0.pingAgent(domain: domain, timeout: wait.duration) }
            let us = latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000
            if options.json { return try Output.json(Virthost_V1_AgentPingResponse.with { $0.latencyUs = UInt64(us) }) }
            Output.line("Guest agent of '\(domain)' answered in \(String(format: "%.1f", Double(us) / 1000)) ms")
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "The guest agent's version and commands (guest-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let info = try await options.withClient { try await $0.agentInfo(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(info) }
            Output.line("Version: \(info.version)\n")
            var table = Table("Command", "Enabled", "Success response")
            for command in info.commands {
                table.add(command.name, Format.yesNo(command.enabled), Format.yesNo(command.successResponse))
            }
            Output.line(table.render())
        }
    }

    struct OSInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "osinfo", abstract: "The guest's operating system (guest-get-osinfo).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let os = try await options.withClient { try await $0.guestOSInfo(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(os) }
            var details = Details()
            details.add("Name", os.name)
            details.add("Pretty name", os.prettyName)
            details.add("ID", os.id)
            details.add("Version", os.version)
            details.add("Version ID", os.versionID)
            details.add("Kernel release", os.kernelRelease)
            details.add("Kernel version", os.kernelVersion)
            details.add("Machine", os.machine)
            Output.line(details.render())
        }
    }

    struct HostName: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hostname", abstract: "The guest's host name (guest-get-host-name).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let name = try await options.withClient { try await $0.guestHostName(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(Virthost_V1_GuestHostName.with { $0.hostName = name }) }
            Output.line(name)
        }
    }

    struct Interfaces: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "interfaces", abstract: "The guest's network interfaces and addresses (like virsh domifaddr --source agent).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let interfaces = try await options.withClient { try await $0.guestInterfaces(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(interfaces) }
            Output.line(AgentCommand.interfaceTable(interfaces).render())
        }
    }

    struct FSInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fsinfo", abstract: "The guest's mounted file systems (like virsh domfsinfo).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let filesystems = try await options.withClient { try await $0.guestFilesystems(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(filesystems) }
            var table = Table("Mountpoint", "Name", "Type", "Used", "Total", "Disks")
            for fs in filesystems {
                table.add(
                    fs.mountpoint, fs.name, fs.type, Format.bytes(fs.usedBytes), Format.bytes(fs.totalBytes),
                    fs.disks.joined(separator: ","))
            }
            Output.line(table.render())
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "users", abstract: "Users logged in to the guest (guest-get-users).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let users = try await options.withClient { try await $0.guestUsers(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(users) }
            var table = Table("User", "Domain", "Login time")
            for user in users {
                table.add(user.user, user.domain.isEmpty ? "-" : user.domain, AgentCommand.timestamp(user.loginTime.date))
            }
            Output.line(table.render())
        }
    }

    struct Time: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "time", abstract: "The guest's clock (like virsh domtime).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let date = try await options.withClient { try await $0.guestTime(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(Virthost_V1_GuestTime.with { $0.time = .init(date: date) }) }
            Output.line("Time: \(Int64(date.timeIntervalSince1970.rounded(.down))) (\(AgentCommand.timestamp(date)))")
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "exec", abstract: "Run a program in the guest, print its output and exit with its exit code.",
            discussion: """
                Example: virthost agent exec web-1 -- /bin/sh -c 'uname -a; exit 3'
                Output goes to stdout and stderr as the agent returns it; qemu-ga 7.2 returns it only \
                once the program has exited. A program killed by signal N exits 128+N. When --timeout \
                ends the wait first, the program keeps running in the guest and this exits 124.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption
        @Option(name: .customLong("env"), help: "NAME=value for the program's environment (repeatable).")
        var env: [String] = []
        @Option(help: "A file whose bytes (at most 64 KiB) go to the program's standard input, or - for this one's.")
        var stdin: String?
        @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.")
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else { throw ValidationError("name the program after --, e.g. -- /bin/uname -a") }
        }

        func run() async throws {
            let input: Data
            switch stdin {
            case nil: input = Data()
            case "-": input = FileHandle.standardInput.readDataToEndOfFile()
            case let path?:
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                input = data
            }
            let program = command[0]
            let arguments = Array(command.dropFirst())
            let result: Virthost_V1_ExecResponse
            if options.json {
                result = try await options.withClient {
                    try await $0.exec(
                        domain: domain, program: program, arguments: arguments, env: env, stdin: input, timeout: wait.duration)
                }
                try Output.json(result)
            } else {
                result = try await options.withClient {
                    try await $0.execStream(
                        domain: domain, program: program, arguments: arguments, env: env, stdin: input,
                        timeout: wait.duration
                    ) { part in
                        switch part {
                        case .stdout(let data): RawOutput.write(data, error: false)
                        case .stderr(let data): RawOutput.write(data, error: true)
                        case .started, .exit: break
                        }
                    }
                }
                if result.stdoutTruncated || result.stderrTruncated {
                    RawOutput.write(Data("virthost: the guest agent truncated the program's output\n".utf8), error: true)
                }
            }
            let code = AgentCommand.exitCode(result)
            if !result.exited {
                RawOutput.write(
                    Data("virthost: \(program) still runs in the guest as pid \(result.pid) after the timeout\n".utf8), error: true)
            }
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Freeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "freeze", abstract: "Freeze the guest's file systems (like virsh domfsfreeze).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @Option(name: .customLong("mountpoint"), help: "Freeze only this mount point (repeatable).") var mountpoints: [String] = []
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let count = try await options.withClient {
                try await $0.freezeFilesystems(domain: domain, mountpoints: mountpoints, timeout: wait.duration)
            }
            if options.json { return try Output.json(Virthost_V1_FreezeResponse.with { $0.count = Int32(count) }) }
            Output.line("Froze \(count) filesystem(s)")
        }
    }

    struct Thaw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "thaw", abstract: "Thaw the guest's file systems (like virsh domfsthaw).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let count = try await options.withClient { try await $0.thawFilesystems(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(Virthost_V1_FreezeResponse.with { $0.count = Int32(count) }) }
            Output.line("Thawed \(count) filesystem(s)")
        }
    }

    struct FSStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fsstatus", abstract: "Whether the guest's file systems are frozen (guest-fsfreeze-status).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The machine's name.") var domain: String
        @OptionGroup var wait: TimeoutOption

        func run() async throws {
            let frozen = try await options.withClient { try await $0.filesystemsFrozen(domain: domain, timeout: wait.duration) }
            if options.json { return try Output.json(Virthost_V1_FreezeStatus.with { $0.frozen = frozen }) }
            Output.line(frozen ? "frozen" : "thawed")
        }
    }

    // MARK: Formatting

    /// virsh domifaddr's layout: one row per address, the NIC named on its first.
    static func interfaceTable(_ interfaces: [Virthost_V1_GuestInterface]) -> Table {
        var table = Table("Name", "MAC address", "Protocol", "Address")
        for interface in interfaces {
            if interface.addresses.isEmpty {
                table.add(interface.name, interface.mac.isEmpty ? "-" : interface.mac, "N/A", "N/A")
            }
            for (index, address) in interface.addresses.enumerated() {
                table.add(
                    index == 0 ? interface.name : "-", index == 0 ? (interface.mac.isEmpty ? "-" : interface.mac) : "-",
                    address.type, "\(address.address)/\(address.prefix)")
            }
        }
        return table
    }

    /// The exit status the CLI takes on: the program's code, 128+signal, or
    /// 124 (as timeout(1)) when it had not exited.
    static func exitCode(_ result: Virthost_V1_ExecResponse) -> Int32 {
        guard result.exited else { return 124 }
        if result.signal != 0 { return 128 + result.signal }
        return result.exitCode
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        return formatter.string(from: date)
    }
}

/// Output bytes as they come, unbuffered (the CLI's tests capture them).
enum RawOutput {
    static func write(_ data: Data, error: Bool) {
        if let sink = Output.sink {
            sink(String(decoding: data, as: UTF8.self))
        } else {
            (error ? FileHandle.standardError : FileHandle.standardOutput).write(data)
        }
    }
}

