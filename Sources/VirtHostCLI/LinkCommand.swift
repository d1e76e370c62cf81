import ArgumentParser
import VirtHostClient

/// `virthost link ...`: the host's network links, like ip link.
struct LinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link", abstract: "Host network links (like ip link).",
        subcommands: [List.self, Set.self, AddVlan.self, AddBond.self, Del.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List links with their kind, state, master and MAC (like ip link).")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only links of this kind: bridge, tap, veth, vlan, bond, device...") var kind: String = ""
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListLinksRequest()
            request.kind = kind
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            let links = try await page.items(options, request, token: \.pageToken, { try await $0.listLinks($1) }) {
                ($0.links, $0.nextPageToken)
            }
            guard let links else { return }
            var table = Table("Index", "Name", "Kind", "State", "MTU", "Master", "MAC")
            for l in links {
                table.add(
                    String(l.index), l.name, l.kind, l.stateLabel, String(l.mtu), l.master.isEmpty ? "-" : l.master,
                    l.mac.isEmpty ? "-" : l.mac)
            }
            Output.line(table.render())
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a link: up or down, MTU, master (like ip link set DEV up|down mtu N master BR|nomaster).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The link's name.") var name: String
        @Flag(help: "Bring it up.") var up = false
        @Flag(help: "Bring it down.") var down = false
        @Option(help: "New MTU, 68-65535.") var mtu: UInt32 = 0
        @Option(help: "Connect it to this bridge or bond (a bond port is downed for the change and brought up again).")
        var master: String = ""
        @Flag(help: "Disconnect it from its bridge or bond.") var nomaster = false

        func validate() throws {
            if up && down { throw ValidationError("--up and --down together: choose one") }
            if !master.isEmpty && nomaster { throw ValidationError("--master and --nomaster together: choose one") }
            if !up && !down && mtu == 0 && master.isEmpty && !nomaster {
                throw ValidationError("nothing to change: give --up, --down, --mtu, --master or --nomaster")
            }
        }

        func run() async throws {
            let link = try await options.withClient {
                try await $0.setLink(name, up: up ? true : (down ? false : nil), mtu: mtu, master: master, noMaster: nomaster)
            }
            if options.json { return try Output.json(link) }
            Output.line("Link '\(link.name)': \(link.stateLabel), mtu \(link.mtu), master \(link.master.isEmpty ? "-" : link.master)")
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
        static let configuration = CommandConfiguration(commandName: "del", abstract: "Delete a VLAN, bond, veth or macvtap link (like ip link del).")
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
