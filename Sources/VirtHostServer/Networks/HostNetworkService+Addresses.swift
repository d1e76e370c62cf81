import Glibc
import GRPCCore
import HostNetworking
import VirtHostAPI

// Links, addresses and routes (ip link set / ip addr / ip route). Input is
// checked here, before the netlink thread: names, addresses, prefixes, MTUs.
extension HostNetworkService {
    func setLink(request: Virthost_V1_SetLinkRequest, context: ServerContext) async throws -> Virthost_V1_Link {
        try HostChecks.linkName(request.name, field: "link name")
        if request.mtu != 0, !(68...65535).contains(request.mtu) { throw Refusal.invalid("mtu \(request.mtu) is outside 68-65535") }
        if !request.master.isEmpty {
            try HostChecks.linkName(request.master, field: "master")
            if request.noMaster { throw Refusal.invalid("master and no_master together: choose one") }
            if request.master == request.name { throw Refusal.invalid("a link cannot be its own master") }
        }
        if !request.hasUp, request.mtu == 0, request.master.isEmpty, !request.noMaster {
            throw Refusal.invalid("nothing to change: give up, mtu, master or no_master")
        }
        let name = request.name
        return try await Self.netlink {
            _ = try HostLinks.get(name)
            if request.noMaster { try HostLinks.setNoMaster(name) }
            if request.mtu != 0 { try HostLinks.setMTU(name, request.mtu) }
            if !request.master.isEmpty { try HostLinks.setMaster(name, master: request.master) }
            if request.hasUp { try HostLinks.setUp(name, request.up) }
            return Self.message(try HostLinks.get(name))
        }
    }

    func listAddresses(request: Virthost_V1_ListAddressesRequest, context: ServerContext) async throws -> Virthost_V1_ListAddressesResponse {
        if !request.interface.isEmpty { try HostChecks.linkName(request.interface, field: "interface") }
        return try await Self.netlink {
            var response = Virthost_V1_ListAddressesResponse()
            response.addresses = try HostLinks.addresses(interface: request.interface.isEmpty ? nil : request.interface).map(Self.message)
            return response
        }
    }

    func addAddress(request: Virthost_V1_AddressRequest, context: ServerContext) async throws -> Virthost_V1_Address {
        let address = try Self.checkAddress(request)
        return try await Self.netlink {
            try HostLinks.addAddress(request.interface, address)
            guard let added = try HostLinks.addresses(interface: request.interface).first(where: { $0.local == address }) else {
                throw HostNetworkError(.failed, "the kernel took \(address) on '\(request.interface)' but does not list it")
            }
            return Self.message(added)
        }
    }

    func deleteAddress(request: Virthost_V1_AddressRequest, context: ServerContext) async throws -> Virthost_V1_Empty {
        let address = try Self.checkAddress(request)
        return try await Self.netlink {
            try HostLinks.deleteAddress(request.interface, address)
            return Virthost_V1_Empty()
        }
    }

    func listRoutes(request: Virthost_V1_ListRoutesRequest, context: ServerContext) async throws -> Virthost_V1_ListRoutesResponse {
        guard [0, 4, 6].contains(request.family) else { throw Refusal.invalid("family \(request.family) is not 4, 6 or 0 (both)") }
        return try await Self.netlink {
            var response = Virthost_V1_ListRoutesResponse()
            response.routes = try HostLinks.routes()
                .filter { request.family == 0 || (request.family == 6) == $0.destination.isIPv6 }
                .map(Self.message)
            return response
        }
    }

    func addRoute(request: Virthost_V1_AddRouteRequest, context: ServerContext) async throws -> Virthost_V1_Route {
        var gateway: [UInt8]?
        if !request.gateway.isEmpty {
            guard let bytes = IPPrefix.bytes(request.gateway) else {
                throw Refusal.invalid("gateway '\(request.gateway.prefix(64))' is not an IPv4 or IPv6 address")
            }
            gateway = bytes
        }
        let destination = try Self.destination(request.destination, family: gateway.map { $0.count == 16 ? 6 : 4 } ?? 0)
        if let gateway, gateway.count != destination.bytes.count {
            throw Refusal.invalid("gateway \(request.gateway) and destination \(request.destination) are of different families")
        }
        if !request.interface.isEmpty { try HostChecks.linkName(request.interface, field: "interface") }
        if gateway == nil, request.interface.isEmpty { throw Refusal.invalid("a route needs a gateway, an interface or both") }
        if let gateway, gateway.allSatisfy({ $0 == 0 }) { throw Refusal.invalid("gateway \(request.gateway) is the unspecified address") }
        let via = gateway
        return try await Self.netlink {
            try HostLinks.addRoute(
                destination, gateway: via, interface: request.interface.isEmpty ? nil : request.interface, metric: request.metric)
            let network = destination.network
            let added = try HostLinks.routes().first {
                $0.table == RouteInfo.mainTable && $0.destination == network && (request.metric == 0 || $0.metric == request.metric)
                    && (via == nil || $0.gateway == IPPrefix.format(via!))
            }
            guard let added else { throw HostNetworkError(.failed, "the kernel took the route to \(network) but does not list it") }
            return Self.message(added)
        }
    }

    func deleteRoute(request: Virthost_V1_DeleteRouteRequest, context: ServerContext) async throws -> Virthost_V1_DeleteRouteResponse {
        guard [0, 4, 6].contains(request.family) else { throw Refusal.invalid("family \(request.family) is not 4, 6 or 0") }
        let destination = try Self.destination(request.destination, family: request.family)
        var gateway: String?
        if !request.gateway.isEmpty {
            guard let bytes = IPPrefix.bytes(request.gateway) else {
                throw Refusal.invalid("gateway '\(request.gateway.prefix(64))' is not an IPv4 or IPv6 address")
            }
            gateway = IPPrefix.format(bytes)
        }
        if !request.interface.isEmpty { try HostChecks.linkName(request.interface, field: "interface") }
        let anyFamily = request.destination == "default" && request.family == 0
        let through = gateway
        return try await Self.netlink {
            let matches = try HostLinks.routes().filter {
                $0.table == RouteInfo.mainTable
                    && (anyFamily ? $0.destination.prefix == 0 : $0.destination == destination.network)
                    && (through == nil || $0.gateway == through) && (request.interface.isEmpty || $0.interface == request.interface)
                    && (!request.hasMetric || $0.metric == request.metric)
            }
            guard !matches.isEmpty else {
                throw HostNetworkError(.notFound, "no route to \(request.destination) in the main table matches")
            }
            if matches.count > 1 {
                throw HostNetworkError(
                    .invalid,
                    "\(matches.count) routes to \(request.destination) match (\(matches.map(Self.describe).joined(separator: "; "))); "
                        + "name one with gateway, interface, metric or family")
            }
            try HostLinks.deleteRoute(matches[0])
            var response = Virthost_V1_DeleteRouteResponse()
            response.deleted = matches.map(Self.message)
            return response
        }
    }

    // MARK: Checks and messages

    static func checkAddress(_ request: Virthost_V1_AddressRequest) throws -> IPPrefix {
        try HostChecks.linkName(request.interface, field: "interface")
        switch IPPrefix.parse(request.address) {
        case .failure(let problem): throw Refusal.invalid("address \(problem)")
        case .success(let address):
            if address.bytes.allSatisfy({ $0 == 0 }) { throw Refusal.invalid("address \(address.address) is the unspecified address") }
            if (address.isIPv6 && address.bytes[0] == 0xff) || (!address.isIPv6 && address.bytes[0] >= 224 && address.bytes[0] < 240) {
                throw Refusal.invalid("address \(address.address) is a multicast address")
            }
            if !address.isIPv6, address.prefix < 31, address.bytes == address.network.bytes {
                throw Refusal.invalid("address \(address) is the network address of its prefix; give a host address")
            }
            return address
        }
    }

    /// `default` (of `family`, 4 when 0) or `ADDR/PREFIX`.
    static func destination(_ text: String, family: UInt32) throws -> IPPrefix {
        if text == "default" {
            return IPPrefix(bytes: [UInt8](repeating: 0, count: family == 6 ? 16 : 4), prefix: 0)
        }
        switch IPPrefix.parse(text) {
        case .failure(let problem): throw Refusal.invalid("destination \(problem) (or write default)")
        case .success(let destination):
            if family != 0, (family == 6) != destination.isIPv6 {
                throw Refusal.invalid("destination \(text) is not IPv\(family)")
            }
            return destination
        }
    }

    static func describe(_ route: RouteInfo) -> String {
        var text = route.destinationText
        if let gateway = route.gateway { text += " via \(gateway)" }
        if !route.interface.isEmpty { text += " dev \(route.interface)" }
        return text + " metric \(route.metric)"
    }

    static let addressFlagNames: [(UInt32, String)] = [
        (0x01, "secondary"), (0x02, "nodad"), (0x04, "optimistic"), (0x08, "dadfailed"), (0x10, "homeaddress"),
        (0x20, "deprecated"), (0x40, "tentative"), (0x80, "permanent"), (0x100, "mngtmpaddr"), (0x200, "noprefixroute"),
        (0x400, "autojoin"), (0x800, "stable-privacy"),
    ]

    static func scopeName(_ scope: Int32) -> String {
        switch scope {
        case 0: "global"
        case 200: "site"
        case 253: "link"
        case 254: "host"
        case 255: "nowhere"
        default: "\(scope)"
        }
    }

    static func protocolName(_ number: UInt8) -> String {
        switch number {
        case 1: "redirect"
        case 2: "kernel"
        case 3: "boot"
        case 4: "static"
        case 9: "ra"
        case 16: "dhcp"
        default: "\(number)"
        }
    }

    static func message(_ address: AddressInfo) -> Virthost_V1_Address {
        var message = Virthost_V1_Address()
        message.interface = address.interface
        message.address = address.local.description
        message.family = address.local.isIPv6 ? 6 : 4
        message.scope = scopeName(address.scope)
        message.flags = addressFlagNames.filter { address.flags & $0.0 != 0 }.map(\.1)
        if address.validLifetime != UInt32.max { message.validLifetime = address.validLifetime }
        if address.preferredLifetime != UInt32.max { message.preferredLifetime = address.preferredLifetime }
        message.peer = address.peer ?? ""
        message.broadcast = address.broadcast ?? ""
        message.label = address.label
        return message
    }

    static func message(_ route: RouteInfo) -> Virthost_V1_Route {
        var message = Virthost_V1_Route()
        message.destination = route.destinationText
        message.gateway = route.gateway ?? ""
        message.interface = route.interface
        message.metric = route.metric
        message.table = route.table
        message.protocol = protocolName(route.protocolNumber)
        message.scope = scopeName(Int32(route.scope))
        message.preferredSource = route.preferredSource ?? ""
        message.family = route.destination.isIPv6 ? 6 : 4
        return message
    }
}
