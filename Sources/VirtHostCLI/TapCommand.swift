import ArgumentParser
import VirtHostClient

/// `virthost tap ...`: persistent TAP devices, like ip tuntap.
struct TapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tap", abstract: "Persistent TAP devices (like ip tuntap).", subcommands: [List.self, Add.self, Del.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List TAP devices (like ip tuntap show).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let taps = try await options.withClient { try await $0.listLinks(kind: "tap") }
            if options.json { return try Output.json(taps) }
            var table = Table("Name", "State", "Persistent", "Multi-queue", "Owner", "Group", "Bridge", "MAC")
            for t in taps {
                table.add(
                    t.name, t.stateLabel, Format.yesNo(t.tap.persistent), Format.yesNo(t.tap.multiQueue),
                    t.tap.hasOwnerUid ? String(t.tap.ownerUid) : "-", t.tap.hasOwnerGid ? String(t.tap.ownerGid) : "-",
                    t.master.isEmpty ? "-" : t.master, t.mac)
            }
            Output.line(table.render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a persistent TAP device, up (like ip tuntap add NAME mode tap).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The device's name (at most 15 characters).") var name: String
        @Option(help: "Connect it to this bridge.") var bridge: String = ""
        @Option(help: "The uid that may open it.") var owner: UInt32?
        @Option(help: "The gid whose members may open it.") var group: UInt32?
        @Flag(name: .customLong("multi-queue"), help: "Several queues (IFF_MULTI_QUEUE).") var multiQueue = false
        @Option(help: "MTU (default: the kernel's).") var mtu: UInt32 = 0

        func run() async throws {
            let link = try await options.withClient {
                try await $0.createTap(name, ownerUID: owner, ownerGID: group, multiQueue: multiQueue, bridge: bridge, mtu: mtu)
            }
            if options.json { return try Output.json(link) }
            Output.line("TAP device '\(link.name)' created" + (link.master.isEmpty ? "" : " on bridge '\(link.master)'"))
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "del", abstract: "Delete a persistent TAP device (like ip tuntap del).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The device's name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.deleteTap(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("TAP device '\(name)' deleted")
        }
    }
}
