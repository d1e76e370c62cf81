import ArgumentParser
import Foundation
import VirtHostClient

/// `virthost net ...`: libvirt virtual networks, like virsh net-*.
struct NetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net", abstract: "libvirt virtual networks.",
        subcommands: [
            List.self, Info.self, XML.self, Define.self, Start.self, Stop.self, Undefine.self, Autostart.self, Leases.self,
            DhcpHost.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List networks (all, unless filtered).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Only active networks.") var active = false
        @Flag(help: "Only inactive networks.") var inactive = false
        @OptionGroup var page: PageOptions

        func run() async throws {
            var request = Virthost_V1_ListNetworksRequest()
            request.activeOnly = active
            request.inactiveOnly = inactive
            request.pageSize = page.limit
            request.namePrefix = page.prefix
            let networks = try await page.items(options, request, token: \.pageToken, { try await $0.listNetworks($1) }) {
                ($0.networks, $0.nextPageToken)
            }
            guard let networks else { return }
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
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Show one network (like virsh net-info).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String

        func run() async throws {
            let n = try await options.withClient { try await $0.network(name) }
            if options.json { return try Output.json(n) }
            Output.line(NetCommand.details(n).render())
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

    struct Define: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "define", abstract: "Define a network from a typed description or an XML file (like virsh net-define).",
            discussion: """
                Examples:
                  virthost net define lab --type isolated --bridge-name virbr10 --ip 192.0.2.1/24 --dhcp-range 192.0.2.100,192.0.2.199
                  virthost net define out --type nat --ip 198.51.100.1/24 --dhcp-range 198.51.100.10,198.51.100.99 --start
                  virthost net define dmz --type routed --forward-dev eth0 --ip 203.0.113.1/26
                  virthost net define lan --type bridge --bridge br0
                  virthost net define direct --type macvtap --interfaces eth1,eth2 --mode vepa
                  virthost net define sriov --type hostdev --pf eth3
                  virthost net define ovs --type ovs --ovs-bridge ovsbr0 --vlan 42 --portgroup web:10:default
                  virthost net define --xml net.xml --start
                Nothing stays defined when a step fails (with --start: when the start fails).
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name (not with --xml).") var name: String?
        @Option(help: "isolated, nat, routed, bridge, macvtap, hostdev or ovs.") var type: String?
        @Option(help: "A <network> XML file (or - for standard input): the escape hatch.") var xml: String?
        @Option(name: .customLong("bridge-name"), help: "The bridge libvirt makes (isolated, nat, routed).") var bridgeName: String?
        @Option(name: .customLong("ip"), help: "ADDR/PREFIX of the network, IPv4 or IPv6 (repeatable).") var ips: [String] = []
        @Option(name: .customLong("dhcp-range"), help: "START,END handed out by DHCP (repeatable).") var dhcpRanges: [String] = []
        @Option(name: .customLong("dhcp-host"), help: "MAC,IP[,HOSTNAME] static DHCP host (IPv6: ,IP,HOSTNAME) (repeatable).")
        var dhcpHosts: [String] = []
        @Option(name: .customLong("forward-dev"), help: "Outgoing device (nat, routed).") var forwardDev: String?
        @Option(name: .customLong("nat-ports"), help: "START-END source ports for NAT (nat).") var natPorts: String?
        @Option(help: "The existing host bridge (bridge).") var bridge: String?
        @Option(help: "Host interfaces, DEV[,DEV...] (macvtap).") var interfaces: String?
        @Option(help: "bridge, vepa, private or passthrough (macvtap).") var mode: String?
        @Option(help: "PCI addresses of virtual functions, ADDR[,ADDR...] (hostdev).") var pci: String?
        @Option(help: "Physical function whose virtual functions are used (hostdev).") var pf: String?
        @Flag(help: "Leave binding devices to vfio to the operator (hostdev).") var unmanaged = false
        @Option(name: .customLong("ovs-bridge"), help: "The Open vSwitch bridge (ovs).") var ovsBridge: String?
        @Option(name: .customLong("vlan"), help: "VLAN tag (ovs; one for hostdev and macvtap passthrough) (repeatable).")
        var vlans: [UInt32] = []
        @Option(name: .customLong("portgroup"), help: "NAME[:TAG,TAG...][:default] (ovs) (repeatable).") var portGroups: [String] = []
        @Option(help: "MTU of the bridge libvirt makes.") var mtu: UInt32?
        @Option(help: "DNS domain of the guests.") var domain: String?
        @Option(help: "A fixed UUID.") var uuid: String?
        @Flag(help: "Start the network at once.") var start = false
        @Flag(help: "Start the network with the host.") var autostart = false

        func validate() throws {
            if xml != nil {
                guard name == nil, type == nil else { throw ValidationError("--xml takes the name and kind from the file: drop NAME and --type") }
            } else {
                guard name != nil else { throw ValidationError("name the network (or give --xml FILE)") }
                guard type != nil else { throw ValidationError("--type is required: isolated, nat, routed, bridge, macvtap, hostdev or ovs") }
            }
        }

        func run() async throws {
            let network: Virthost_V1_Network
            if let xml {
                let document = try readInput(xml)
                network = try await options.withClient { try await $0.defineNetwork(xml: document, start: start, autostart: autostart) }
            } else {
                let spec = try buildSpec()
                network = try await options.withClient { try await $0.defineNetwork(spec, start: start, autostart: autostart) }
            }
            if options.json { return try Output.json(network) }
            Output.line("Network '\(network.name)' defined\(network.active ? " and started" : "")")
        }

        func buildSpec() throws -> Virthost_V1_NetworkSpec {
            var spec = Virthost_V1_NetworkSpec()
            spec.name = name ?? ""
            spec.bridgeName = bridgeName ?? ""
            spec.mtu = mtu ?? 0
            spec.domain = domain ?? ""
            spec.uuid = uuid ?? ""
            spec.ips = try ips.map { text in
                let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, let prefix = UInt32(parts[1]) else {
                    throw ValidationError("--ip '\(text)' is not ADDR/PREFIX (e.g. 192.0.2.1/24 or 2001:db8::1/64)")
                }
                return .with {
                    $0.address = String(parts[0])
                    $0.prefix = prefix
                }
            }
            func blockIndex(for address: String, option: String) throws -> Int {
                let v6 = address.contains(":")
                guard let index = spec.ips.firstIndex(where: { $0.address.contains(":") == v6 }) else {
                    throw ValidationError("\(option) \(address): no --ip of the same family to put it in")
                }
                // The block whose subnet holds the address, else the first of its family (the agent checks).
                return spec.ips.indices.first { spec.ips[$0].address.contains(":") == v6 && Self.sameSubnet(address, spec.ips[$0]) } ?? index
            }
            for text in dhcpRanges {
                let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { throw ValidationError("--dhcp-range '\(text)' is not START,END") }
                let index = try blockIndex(for: parts[0], option: "--dhcp-range")
                spec.ips[index].dhcpRanges.append(.with {
                    $0.start = parts[0]
                    $0.end = parts[1]
                })
            }
            for text in dhcpHosts {
                let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 || parts.count == 3 else { throw ValidationError("--dhcp-host '\(text)' is not MAC,IP[,HOSTNAME]") }
                let index = try blockIndex(for: parts[1], option: "--dhcp-host")
                spec.ips[index].dhcpHosts.append(.with {
                    $0.mac = parts[0]
                    $0.ip = parts[1]
                    $0.hostname = parts.count == 3 ? parts[2] : ""
                })
            }
            let list: (String?) -> [String] = { $0.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [] }
            var unused: [(String, Bool)] = [
                ("--forward-dev", forwardDev != nil), ("--nat-ports", natPorts != nil), ("--bridge", bridge != nil),
                ("--interfaces", interfaces != nil), ("--mode", mode != nil), ("--pci", pci != nil), ("--pf", pf != nil),
                ("--unmanaged", unmanaged), ("--ovs-bridge", ovsBridge != nil), ("--vlan", !vlans.isEmpty),
                ("--portgroup", !portGroups.isEmpty),
            ]
            func uses(_ names: String...) { unused.removeAll { names.contains($0.0) } }
            switch type ?? "" {
            case "isolated":
                spec.isolated = .init()
            case "nat":
                uses("--forward-dev", "--nat-ports")
                var nat = Virthost_V1_NatNetwork()
                nat.dev = forwardDev ?? ""
                if let natPorts {
                    let parts = natPorts.split(separator: "-").compactMap { UInt32($0) }
                    guard parts.count == 2 else { throw ValidationError("--nat-ports '\(natPorts)' is not START-END") }
                    (nat.portStart, nat.portEnd) = (parts[0], parts[1])
                }
                spec.nat = nat
            case "routed", "route":
                uses("--forward-dev")
                spec.routed = .with { $0.dev = forwardDev ?? "" }
            case "bridge", "bridged":
                uses("--bridge")
                guard let bridge else { throw ValidationError("--type bridge needs --bridge BR (the existing host bridge)") }
                spec.bridged = .with { $0.bridge = bridge }
            case "macvtap", "direct":
                uses("--interfaces", "--mode", "--vlan")
                guard interfaces != nil else { throw ValidationError("--type macvtap needs --interfaces DEV[,DEV...]") }
                var macvtap = Virthost_V1_MacvtapNetwork()
                macvtap.interfaces = list(interfaces)
                switch mode ?? "bridge" {
                case "bridge": macvtap.mode = .bridge
                case "vepa": macvtap.mode = .vepa
                case "private": macvtap.mode = .private
                case "passthrough": macvtap.mode = .passthrough
                default: throw ValidationError("--mode '\(mode ?? "")' is not bridge, vepa, private or passthrough")
                }
                macvtap.vlanTags = vlans
                spec.macvtap = macvtap
            case "hostdev":
                uses("--pci", "--pf", "--unmanaged", "--vlan")
                spec.hostdev = .with {
                    $0.pciAddresses = list(pci)
                    $0.pf = pf ?? ""
                    $0.unmanaged = unmanaged
                    $0.vlanTags = vlans
                }
            case "ovs", "openvswitch":
                uses("--ovs-bridge", "--vlan", "--portgroup")
                guard let ovsBridge else { throw ValidationError("--type ovs needs --ovs-bridge BR") }
                var ovs = Virthost_V1_OvsNetwork()
                ovs.bridge = ovsBridge
                ovs.vlanTags = vlans
                ovs.portGroups = try portGroups.map { text in
                    var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    var group = Virthost_V1_OvsPortGroup()
                    group.name = parts.removeFirst()
                    if parts.last == "default" {
                        group.isDefault = true
                        parts.removeLast()
                    }
                    guard parts.count <= 1 else { throw ValidationError("--portgroup '\(text)' is not NAME[:TAG,TAG...][:default]") }
                    group.vlanTags = try (parts.first.map { $0.split(separator: ",") } ?? []).map {
                        guard let tag = UInt32($0) else { throw ValidationError("--portgroup '\(text)': '\($0)' is not a VLAN tag") }
                        return tag
                    }
                    return group
                }
                spec.ovs = ovs
            default:
                throw ValidationError("--type '\(type ?? "")' is not one of: isolated, nat, routed, bridge, macvtap, hostdev, ovs")
            }
            if let (option, _) = unused.first(where: { $0.1 }) {
                throw ValidationError("\(option) does not apply to --type \(type ?? "")")
            }
            return spec
        }

        /// Whether `address` lies in the subnet of `ip` (a quick check; the agent decides).
        static func sameSubnet(_ address: String, _ ip: Virthost_V1_NetworkIP) -> Bool {
            func bytes(_ text: String) -> [UInt8]? {
                var v4 = in_addr()
                if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
                var v6 = in6_addr()
                if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
                return nil
            }
            guard let a = bytes(address), let b = bytes(ip.address), a.count == b.count else { return false }
            var bits = Int(ip.prefix)
            for i in 0..<a.count where bits > 0 {
                let take = min(8, bits)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
                if a[i] & mask != b[i] & mask { return false }
                bits -= take
            }
            return true
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a defined network (like virsh net-start).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String

        func run() async throws {
            let n = try await options.withClient { try await $0.startNetwork(name) }
            if options.json { return try Output.json(n) }
            Output.line("Network '\(n.name)' started")
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a network (like virsh net-destroy).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String

        func run() async throws {
            let n = try await options.withClient { try await $0.stopNetwork(name) }
            if options.json { return try Output.json(n) }
            Output.line("Network '\(name)' stopped")
        }
    }

    struct Undefine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "undefine", abstract: "Remove a network's definition (like virsh net-undefine).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String

        func run() async throws {
            try await options.withClient { try await $0.undefineNetwork(name) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Network '\(name)' has been undefined")
        }
    }

    struct Autostart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "autostart", abstract: "Start a network with the host, or not (like virsh net-autostart).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String
        @Argument(help: "on or off.") var state: String

        func validate() throws {
            guard state == "on" || state == "off" else { throw ValidationError("autostart takes on or off, not '\(state)'") }
        }

        func run() async throws {
            let n = try await options.withClient { try await $0.setNetworkAutostart(name, state == "on") }
            if options.json { return try Output.json(n) }
            Output.line("Network '\(n.name)' \(n.autostart ? "marked as autostarted" : "unmarked as autostarted")")
        }
    }

    struct Leases: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "leases", abstract: "DHCP leases of a network (like virsh net-dhcp-leases).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The network's name.") var name: String
        @Option(help: "Only the lease of this MAC.") var mac: String = ""
        @OptionGroup var page: PageTokenOptions

        func run() async throws {
            var request = Virthost_V1_ListDhcpLeasesRequest()
            request.network.name = name
            request.mac = mac
            request.pageSize = page.limit
            let leases = try await page.items(options, request, token: \.pageToken, { try await $0.listDhcpLeases($1) }) {
                ($0.leases, $0.nextPageToken)
            }
            guard let leases else { return }
            var table = Table("Expiry Time", "MAC address", "Protocol", "IP address", "Hostname", "Client ID or DUID")
            let format = DateFormatter()
            format.dateFormat = "yyyy-MM-dd HH:mm:ss"
            for lease in leases {
                table.add(
                    format.string(from: lease.expiresAt.date), lease.mac, lease.ip.contains(":") ? "ipv6" : "ipv4",
                    "\(lease.ip)/\(lease.prefix)", lease.hostname.isEmpty ? "-" : lease.hostname,
                    lease.clientID.isEmpty ? "-" : lease.clientID)
            }
            Output.line(table.render())
        }
    }

    struct DhcpHost: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dhcp-host", abstract: "Add or remove a static DHCP host, live and persistent (like virsh net-update).",
            subcommands: [Add.self, Del.self])

        struct HostOptions: ParsableArguments {
            @Argument(help: "The network's name.") var network: String
            @Option(help: "The client's MAC (IPv4).") var mac: String = ""
            @Option(help: "The address handed out.") var ip: String
            @Option(help: "The client's name (required for IPv6).") var hostname: String = ""
            @Option(help: "The network's own address of the block (default: the block holding --ip).") var block: String = ""

            var host: Virthost_V1_DhcpHost {
                .with {
                    $0.mac = mac
                    $0.ip = ip
                    $0.hostname = hostname
                }
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a static DHCP host.")
            @OptionGroup var options: ClientOptions
            @OptionGroup var host: HostOptions

            func run() async throws {
                let n = try await options.withClient { try await $0.addDhcpHost(network: host.network, host.host, ipBlock: host.block) }
                if options.json { return try Output.json(n) }
                Output.line("DHCP host \(host.mac.isEmpty ? host.hostname : host.mac) -> \(host.ip) added to network '\(n.name)'")
            }
        }

        struct Del: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "del", abstract: "Remove a static DHCP host.")
            @OptionGroup var options: ClientOptions
            @OptionGroup var host: HostOptions

            func run() async throws {
                let n = try await options.withClient { try await $0.removeDhcpHost(network: host.network, host.host, ipBlock: host.block) }
                if options.json { return try Output.json(n) }
                Output.line("DHCP host \(host.mac.isEmpty ? host.hostname : host.mac) -> \(host.ip) removed from network '\(n.name)'")
            }
        }
    }

    /// virsh net-info's lines, plus what the definition holds.
    static func details(_ n: Virthost_V1_Network) -> Details {
        var details = Details()
        details.add("Name", n.name)
        details.add("UUID", n.uuid)
        details.add("Active", Format.yesNo(n.active))
        details.add("Persistent", Format.yesNo(n.persistent))
        details.add("Autostart", Format.yesNo(n.autostart))
        details.add("Bridge", n.bridge)
        details.add("Forward", n.forwardMode.label)
        details.add("Addresses", n.addresses.joined(separator: ", "))
        let spec = n.spec
        for ip in spec.ips {
            var parts = ip.dhcpRanges.map { "\($0.start)-\($0.end)" }
            parts += ip.dhcpHosts.map { [$0.mac, $0.hostname, $0.ip].filter { !$0.isEmpty }.joined(separator: " ") }
            if !parts.isEmpty { details.add("DHCP \(ip.address)", parts.joined(separator: ", ")) }
        }
        switch spec.kind {
        case .nat(let nat) where !nat.dev.isEmpty: details.add("Outgoing device", nat.dev)
        case .routed(let routed) where !routed.dev.isEmpty: details.add("Outgoing device", routed.dev)
        case .macvtap(let macvtap):
            details.add("Interfaces", macvtap.interfaces.joined(separator: ", "))
            details.add("Mode", "\(macvtap.mode)")
            if !macvtap.vlanTags.isEmpty { details.add("VLAN", macvtap.vlanTags.map(String.init).joined(separator: ",")) }
        case .hostdev(let hostdev):
            details.add("Devices", hostdev.pf.isEmpty ? hostdev.pciAddresses.joined(separator: ", ") : "VFs of \(hostdev.pf)")
            if !hostdev.vlanTags.isEmpty { details.add("VLAN", hostdev.vlanTags.map(String.init).joined(separator: ",")) }
        case .ovs(let ovs):
            if !ovs.vlanTags.isEmpty { details.add("VLAN", ovs.vlanTags.map(String.init).joined(separator: ",")) }
            for group in ovs.portGroups {
                details.add(
                    "Port group \(group.name)",
                    (group.vlanTags.isEmpty ? "no VLAN" : "VLAN " + group.vlanTags.map(String.init).joined(separator: ","))
                        + (group.isDefault ? " (default)" : ""))
            }
        default: break
        }
        return details
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
