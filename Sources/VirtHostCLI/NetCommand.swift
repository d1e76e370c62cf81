import ArgumentParser
import VirtHostClient

/// `virthost net ...`: libvirt virtual networks, like virsh net-list/net-info/net-dumpxml.
struct NetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net", abstract: "libvirt virtual networks.", subcommands: [List.self, Info.self, XML.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List networks (all, unless filtered).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Only active networks.") var active = false
        @Flag(help: "Only inactive networks.") var inactive = false

        func run() async throws {
            let networks = try await options.withClient { try await $0.listNetworks(activeOnly: active, inactiveOnly: inactive) }
            if options.json { return try Output.json(networks) }
            var table = Table("Name", "State", "Autostart", "Persistent", "Forward", "Bridge", "Addresses")
            for n in networks {
                table.add(
                    n.name, n.active ? "active" : "inactive", Format.yesNo(n.autostart), Format.yesNo(n.persistent),
                    n.forwardMode.label, n.bridge.isEmpty ? "-" : n.bridge,
                    n.addresses.isEmpty ? "-" : n.addresses.joined(separator: ","))
            }
            Output.line(table.render())
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one network (like virsh net-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String

        func run() async throws {
            let n = try await options.withClient { try await $0.network(name) }
            if options.json { return try Output.json(n) }
            var details = Details()
            details.add("Name", n.name)
            details.add("UUID", n.uuid)
            details.add("Active", Format.yesNo(n.active))
            details.add("Persistent", Format.yesNo(n.persistent))
            details.add("Autostart", Format.yesNo(n.autostart))
            details.add("Bridge", n.bridge)
            details.add("Forward", n.forwardMode.label)
            details.add("Addresses", n.addresses.joined(separator: ", "))
            Output.line(details.render())
        }
    }

    struct XML: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "xml", abstract: "Print a network's XML (like virsh net-dumpxml).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String
        @Flag(help: "The persistent definition rather than the live one.") var inactive = false

        func run() async throws {
            let xml = try await options.withClient { try await $0.networkXML(name, inactive: inactive) }
            if options.json { return try Output.json(Virthost_V1_GetNetworkXMLResponse.with { $0.xml = xml }) }
            Output.line(xml.hasSuffix("\n") ? String(xml.dropLast()) : xml)
        }
    }
}

extension Virthost_V1_ForwardMode {
    var label: String {
        switch self {
        case .isolated: "isolated"
        case .nat: "nat"
        case .route: "route"
        case .bridge: "bridge"
        case .macvtap: "macvtap"
        case .hostdev: "hostdev"
        case .open: "open"
        case .openvswitch: "openvswitch"
        default: "-"
        }
    }
}
