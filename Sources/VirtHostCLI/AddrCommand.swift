import ArgumentParser
import VirtHostClient

/// `virthost addr ...`: the host's interface addresses, like ip addr.
struct AddrCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addr", abstract: "Host interface addresses (like ip addr).",
        subcommands: [List.self, Add.self, Del.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List addresses, of one interface or all (like ip addr show [DEV]).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Only this interface's addresses.") var interface: String = ""

        func run() async throws {
            let addresses = try await options.withClient { try await $0.listAddresses(interface: interface) }
            if options.json { return try Output.json(addresses) }
            var table = Table("Interface", "Address", "Scope", "Flags", "Valid")
            for a in addresses {
                table.add(
                    a.interface, a.address, a.scope, a.flags.isEmpty ? "-" : a.flags.joined(separator: ","),
                    a.hasValidLifetime ? "\(a.validLifetime)s" : "forever")
            }
            Output.line(table.render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an address to an interface (like ip addr add ADDR/PREFIX dev DEV).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The interface.") var interface: String
        @Argument(help: "ADDR/PREFIX, e.g. 192.0.2.10/24 or 2001:db8::1/64.") var address: String

        func run() async throws {
            let added = try await options.withClient { try await $0.addAddress(interface, address) }
            if options.json { return try Output.json(added) }
            Output.line("Address \(added.address) added to '\(interface)'")
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "del", abstract: "Remove an address from an interface (like ip addr del ADDR/PREFIX dev DEV).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The interface.") var interface: String
        @Argument(help: "ADDR/PREFIX.") var address: String

        func run() async throws {
            try await options.withClient { try await $0.deleteAddress(interface, address) }
            if options.json { return try Output.json(Virthost_V1_Empty()) }
            Output.line("Address \(address) removed from '\(interface)'")
        }
    }
}

/// `virthost route ...`: the host's routes, like ip route.
struct RouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "Host routes (like ip route).",
        subcommands: [List.self, Add.self, Del.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List routes of every table but local (like ip route show table all).")
        @OptionGroup var options: ClientOptions
        @Flag(name: .customShort("4"), help: "IPv4 only.") var v4 = false
        @Flag(name: .customShort("6"), help: "IPv6 only.") var v6 = false

        func run() async throws {
            let routes = try await options.withClient { try await $0.listRoutes(family: v4 ? 4 : (v6 ? 6 : 0)) }
            if options.json { return try Output.json(routes) }
            var table = Table("Destination", "Gateway", "Interface", "Metric", "Table", "Proto")
            for r in routes {
                table.add(
                    r.destination, r.gateway.isEmpty ? "-" : r.gateway, r.interface.isEmpty ? "-" : r.interface, String(r.metric),
                    r.table == 254 ? "main" : String(r.table), r.protocol)
            }
            Output.line(table.render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a route (like ip route add DEST via GW dev DEV metric N).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "default or ADDR/PREFIX.") var destination: String
        @Option(help: "The gateway.") var via: String = ""
        @Option(help: "The interface.") var dev: String = ""
        @Option(help: "The metric.") var metric: UInt32 = 0

        func validate() throws {
            if via.isEmpty && dev.isEmpty { throw ValidationError("give --via GW, --dev DEV or both") }
        }

        func run() async throws {
            let route = try await options.withClient { try await $0.addRoute(destination, via: via, interface: dev, metric: metric) }
            if options.json { return try Output.json(route) }
            Output.line("Route \(route.destination)\(route.gateway.isEmpty ? "" : " via \(route.gateway)") dev \(route.interface) metric \(route.metric) added")
        }
    }

    struct Del: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "del", abstract: "Delete a main-table route (like ip route del DEST).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "default or ADDR/PREFIX.") var destination: String
        @Option(help: "Only the route through this gateway.") var via: String = ""
        @Option(help: "Only the route through this interface.") var dev: String = ""
        @Option(help: "Only the route with this metric.") var metric: UInt32?
        @Flag(name: .customShort("4"), help: "IPv4 (for default).") var v4 = false
        @Flag(name: .customShort("6"), help: "IPv6 (for default).") var v6 = false

        func run() async throws {
            let deleted = try await options.withClient {
                try await $0.deleteRoute(destination, via: via, interface: dev, metric: metric, family: v4 ? 4 : (v6 ? 6 : 0))
            }
            if options.json { return try Output.json(deleted) }
            for r in deleted { Output.line("Route \(r.destination)\(r.gateway.isEmpty ? "" : " via \(r.gateway)") dev \(r.interface) deleted") }
        }
    }
}
