import ArgumentParser
import VirtHostClient

/// `virthost bridge ...`: host bridges, like brctl.
struct BridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge", abstract: "Host bridges (like brctl).",
        subcommands: [List.self, Add.self, Del.self, AddIf.self, DelIf.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List bridges and their ports (like brctl show).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let bridges = try await options.withClient { try await $0.listLinks(kind: "bridge") }
            if options.json { return try Output.json(bridges) }
            var table = Table("Bridge", "State", "MAC", "MTU", "Interfaces")
            for b in bridges {
                table.add(b.name, b.stateLabel, b.mac, String(b.mtu), b.ports.isEmpty ? "-" : b.ports.joined(separator: ","))
            }
            Output.line(table.render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a bridge, up (like brctl addbr).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge's name (at most 15 characters).") var name: String
        @Option(help: "MTU (default: the kernel's).") var mtu: UInt32 = 0
        @Flag(help: "Turn spanning tree on.") var stp = false

        func run() async throws {
            let link = try await options.withClient { try await $0.createBridge(name, mtu: mtu, stp: stp) }
            if options.json { return try Output.json(link) }
            Output.line("Bridge '\(link.name)' created")
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a bridge (like brctl delbr).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge's name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.deleteBridge(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Bridge '\(name)' deleted")
        }
    }

    struct AddIf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "addif", abstract: "Connect an interface to a bridge (like brctl addif).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge.") var bridge: String
        @Argument(help: "The interface.") var interface: String

        func run() async throws {
            let link = try await options.withClient { try await $0.addToBridge(bridge, interface: interface) }
            if options.json { return try Output.json(link) }
            Output.line("Interface '\(link.name)' connected to bridge '\(link.master)'")
        }
    }

    struct DelIf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delif", abstract: "Disconnect an interface from a bridge (like brctl delif).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bridge.") var bridge: String
        @Argument(help: "The interface.") var interface: String

        func run() async throws {
            let link = try await options.withClient { try await $0.removeFromBridge(bridge, interface: interface) }
            if options.json { return try Output.json(link) }
            Output.line("Interface '\(link.name)' disconnected from bridge '\(bridge)'")
        }
    }
}
