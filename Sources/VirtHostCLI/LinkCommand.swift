import ArgumentParser
import VirtHostClient

/// `virthost link ...`: the host's network links, like ip link.
struct LinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link", abstract: "Host network links (like ip link).",
        subcommands: [List.self, AddVlan.self, AddBond.self, Del.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List links with their kind, state, master and MAC (like ip link).")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only links of this kind: bridge, tap, veth, vlan, bond, device...") var kind: String = ""

        func run() async throws {
            let links = try await options.withClient { try await $0.listLinks(kind: kind) }
            if options.json { return try Output.json(links) }
            var table = Table("Index", "Name", "Kind", "State", "MTU", "Master", "MAC")
            for l in links {
                table.add(
                    String(l.index), l.name, l.kind, l.stateLabel, String(l.mtu), l.master.isEmpty ? "-" : l.master,
                    l.mac.isEmpty ? "-" : l.mac)
            }
            Output.line(table.render())
        }
    }

    struct AddVlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-vlan", abstract: "Create an 802.1Q VLAN interface (like ip link add link DEV name NAME type vlan id N).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The VLAN interface's name, e.g. eth0.100.") var name: String
        @Option(help: "The interface it rides on.") var parent: String
        @Option(help: "VLAN id, 1-4094.") var id: UInt32
        @Flag(help: "Bring it up.") var up = false

        func run() async throws {
            let link = try await options.withClient { try await $0.createVlan(name, parent: parent, id: id, up: up) }
            if options.json { return try Output.json(link) }
            Output.line("VLAN interface '\(link.name)' created on '\(parent)'")
        }
    }

    struct AddBond: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-bond", abstract: "Create a bond over interfaces (like ip link add NAME type bond).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The bond's name, e.g. bond0.") var name: String
        @Option(help: "balance-rr (default), active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb.")
        var mode: String = ""
        @Option(name: .customLong("port"), help: "An interface to enslave (repeatable).") var ports: [String] = []
        @Flag(help: "Bring it up.") var up = false

        func run() async throws {
            let link = try await options.withClient { try await $0.createBond(name, mode: mode, ports: ports, up: up) }
            if options.json { return try Output.json(link) }
            Output.line("Bond '\(link.name)' created")
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a VLAN, bond, veth or macvtap link (like ip link del).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The link's name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.deleteLink(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Link '\(name)' deleted")
        }
    }
}

extension Virthost_V1_Link {
    /// What `ip -br link` would say: down (administratively), up, or
    /// no-carrier (up, but nothing on the other end: an unused TAP, a bridge without live ports).
    var stateLabel: String {
        guard adminUp else { return "down" }
        switch state {
        case "up", "unknown", "": return "up"
        case "down", "lowerlayerdown": return "no-carrier"
        default: return state
        }
    }
}
