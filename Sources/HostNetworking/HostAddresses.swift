import CNetlink
import Glibc

/// One address of a host interface, as `ip -d addr` shows it: enough to put
/// it back exactly (flags, scope, lifetimes, label, peer, broadcast).
public struct AddressInfo: Sendable, Equatable, Codable {
    /// The interface it is on, and its index.
    public var interface: String
    public var index: Int32
    /// The local address and its prefix length.
    public var local: IPPrefix
    /// Point-to-point peer, if any.
    public var peer: String?
    /// IPv4 broadcast, if set.
    public var broadcast: String?
    /// The IFA_F_* flags (permanent, secondary, noprefixroute, nodad...).
    public var flags: UInt32
    /// RT_SCOPE_*: 0 global, 253 link, 254 host.
    public var scope: Int32
    /// Seconds left; `UInt32.max` for forever.
    public var validLifetime: UInt32
    public var preferredLifetime: UInt32
    /// IPv4 label, e.g. `eth0:1`; empty for none.
    public var label: String

    /// Whether the kernel made it for the link (fe80::/10).
    public var isLinkLocal: Bool { local.isLinkLocal }
    /// Flags a caller may ask for on RTM_NEWADDR; the rest are the kernel's own.
    static let settableFlags: UInt32 = ~UInt32(VH_IFA_F_PERMANENT | VH_IFA_F_SECONDARY | VH_IFA_F_TENTATIVE | VH_IFA_F_DADFAILED | VH_IFA_F_DEPRECATED)
}

/// One route of the host's routing tables, as `ip -d route` shows it.
public struct RouteInfo: Sendable, Equatable, Codable {
    /// The main routing table's number (RT_TABLE_MAIN).
    public static let mainTable: UInt32 = 254
    /// The destination; prefix 0 is the default route.
    public var destination: IPPrefix
    /// The next hop's gateway, if any.
    public var gateway: String?
    /// The interface it leaves by, and its index (0 for none: blackhole...).
    public var interface: String
    public var index: Int32
    /// The metric (`ip route ... metric N`, the kernel's priority).
    public var metric: UInt32
    public var table: UInt32
    /// RTPROT_*: 2 kernel, 3 boot, 4 static, 16 dhcp, 9 ra...
    public var protocolNumber: UInt8
    /// RT_SCOPE_*.
    public var scope: UInt8
    /// RTN_*: 1 unicast...
    public var type: UInt8
    /// The preferred source address, if any.
    public var preferredSource: String?
    /// Whether the destination is the default route.
    public var isDefault: Bool { destination.prefix == 0 }
    /// `default` or `ADDR/PREFIX`.
    public var destinationText: String { isDefault ? "default" : destination.description }
}

extension HostLinks {
    // MARK: Addresses

    /// Every address of every interface (or of `interface` only), IPv4 then IPv6.
    public static func addresses(interface: String? = nil) throws -> [AddressInfo] {
        let links = try list()
        let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        var filterIndex: Int32?
        if let interface {
            guard let link = links.first(where: { $0.name == interface }) else {
                throw HostNetworkError(.notFound, "host interface '\(interface)' does not exist")
            }
            filterIndex = link.index
        }
        return try withSocket { socket in
            var cache: OpaquePointer?
            let result = rtnl_addr_alloc_cache(socket, &cache)
            guard result >= 0, let cache else { throw HostNetworkError.netlink(result, "listing addresses") }
            defer { nl_cache_free(cache) }
            var found: [AddressInfo] = []
            var object = nl_cache_get_first(cache)
            while let current = object {
                object = nl_cache_get_next(current)
                let index = rtnl_addr_get_ifindex(current)
                if let filterIndex, index != filterIndex { continue }
                guard let local = rtnl_addr_get_local(current), let bytes = bytes(of: local) else { continue }
                let label = rtnl_addr_get_label(current).map { String(cString: $0) } ?? ""
                found.append(AddressInfo(
                    interface: names[index] ?? "", index: index,
                    local: IPPrefix(bytes: bytes, prefix: Int(rtnl_addr_get_prefixlen(current))),
                    peer: rtnl_addr_get_peer(current).flatMap(bytes(of:)).map(IPPrefix.format).flatMap { $0 == IPPrefix.format(bytes) ? nil : $0 },
                    broadcast: rtnl_addr_get_broadcast(current).flatMap(bytes(of:)).map(IPPrefix.format),
                    flags: rtnl_addr_get_flags(current), scope: rtnl_addr_get_scope(current),
                    validLifetime: rtnl_addr_get_valid_lifetime(current), preferredLifetime: rtnl_addr_get_preferred_lifetime(current),
                    label: label == names[index] ? "" : label))
            }
            return found.sorted { ($0.index, $0.local.bytes.count) < ($1.index, $1.local.bytes.count) }
        }
    }

    /// Adds an address to an interface (`ip addr add ADDR/PREFIX dev DEV`);
    /// an address it already has is refused (`alreadyExists`).
    public static func addAddress(_ interface: String, _ address: IPPrefix) throws {
        let link = try get(interface)
        let info = AddressInfo(
            interface: interface, index: link.index, local: address, peer: nil, broadcast: nil, flags: 0,
            scope: 0, validLifetime: UInt32.max, preferredLifetime: UInt32.max, label: "")
        try add(info, onto: link.index, exclusive: true)
    }

    /// Removes an address from an interface (`ip addr del ADDR/PREFIX dev DEV`).
    public static func deleteAddress(_ interface: String, _ address: IPPrefix) throws {
        let link = try get(interface)
        guard try addresses(interface: interface).contains(where: { $0.local == address }) else {
            throw HostNetworkError(.notFound, "'\(interface)' has no address \(address)")
        }
        try withSocket { socket in
            let result = withAddressObject(address, index: link.index) { rtnl_addr_delete(socket, $0, 0) }
            if result < 0 { throw HostNetworkError.netlink(result, "removing \(address) from '\(interface)'") }
        }
    }

    /// Puts an address (as read by ``addresses(interface:)``) on the link
    /// with index `index`: flags the kernel accepts, scope, lifetimes,
    /// peer, broadcast, label.
    static func add(_ info: AddressInfo, onto index: Int32, exclusive: Bool) throws {
        try withSocket { socket in
            let result = withAddressObject(info.local, index: index) { object -> Int32 in
                rtnl_addr_set_flags(object, info.flags & AddressInfo.settableFlags)
                if info.scope != 0 { rtnl_addr_set_scope(object, info.scope) }
                if info.validLifetime != UInt32.max || info.preferredLifetime != UInt32.max {
                    rtnl_addr_set_valid_lifetime(object, info.validLifetime)
                    rtnl_addr_set_preferred_lifetime(object, info.preferredLifetime)
                }
                if let peer = info.peer.flatMap(IPPrefix.bytes), let address = nlAddress(peer, prefix: info.local.prefix) {
                    _ = rtnl_addr_set_peer(object, address)
                    nl_addr_put(address)
                }
                if let broadcast = info.broadcast.flatMap(IPPrefix.bytes), let address = nlAddress(broadcast, prefix: 0) {
                    _ = rtnl_addr_set_broadcast(object, address)
                    nl_addr_put(address)
                }
                if !info.label.isEmpty { _ = rtnl_addr_set_label(object, info.label) }
                return rtnl_addr_add(socket, object, exclusive ? Int32(VH_NLM_F_CREATE_EXCL) : Int32(VH_NLM_F_CREATE))
            }
            if result < 0 { throw HostNetworkError.netlink(result, "adding \(info.local) to '\(info.interface)'") }
        }
    }

    /// Removes one address from the link with index `index`; one already gone is no error.
    static func remove(_ info: AddressInfo, from index: Int32) throws {
        try withSocket { socket in
            let result = withAddressObject(info.local, index: index) { rtnl_addr_delete(socket, $0, 0) }
            if result < 0, -result != NLE_OBJ_NOTFOUND, -result != NLE_NOADDR, -result != NLE_NODEV {
                throw HostNetworkError.netlink(result, "removing \(info.local) from '\(info.interface)'")
            }
        }
    }

    // MARK: Routes

    /// The host's routes, all tables but `local` unless `allTables`
    /// (kernel-made local and broadcast routes are noise), sorted by table,
    /// family, destination and metric.
    public static func routes(allTables: Bool = false) throws -> [RouteInfo] {
        let names = Dictionary(try list().map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        return try withSocket { socket in
            var cache: OpaquePointer?
            let result = rtnl_route_alloc_cache(socket, AF_UNSPEC, 0, &cache)
            guard result >= 0, let cache else { throw HostNetworkError.netlink(result, "listing routes") }
            defer { nl_cache_free(cache) }
            var found: [RouteInfo] = []
            var object = nl_cache_get_first(cache)
            while let current = object {
                object = nl_cache_get_next(current)
                let family = Int32(rtnl_route_get_family(current))
                guard family == AF_INET || family == AF_INET6 else { continue }
                let table = rtnl_route_get_table(current)
                if !allTables, table == UInt32(VH_RT_TABLE_LOCAL) { continue }
                let length = family == AF_INET6 ? 16 : 4
                var destination = IPPrefix(bytes: [UInt8](repeating: 0, count: length), prefix: 0)
                if let dst = rtnl_route_get_dst(current) {
                    let prefix = Int(nl_addr_get_prefixlen(dst))
                    if let bytes = bytes(of: dst) { destination = IPPrefix(bytes: bytes, prefix: prefix) }
                }
                var gateway: String?
                var index: Int32 = 0
                if rtnl_route_get_nnexthops(current) > 0, let hop = rtnl_route_nexthop_n(current, 0) {
                    index = rtnl_route_nh_get_ifindex(hop)
                    gateway = rtnl_route_nh_get_gateway(hop).flatMap(bytes(of:)).map(IPPrefix.format)
                }
                found.append(RouteInfo(
                    destination: destination, gateway: gateway, interface: names[index] ?? "", index: index,
                    metric: rtnl_route_get_priority(current), table: table, protocolNumber: rtnl_route_get_protocol(current),
                    scope: rtnl_route_get_scope(current), type: rtnl_route_get_type(current),
                    preferredSource: rtnl_route_get_pref_src(current).flatMap(bytes(of:)).map(IPPrefix.format)))
            }
            return found.sorted {
                ($0.table, $0.destination.bytes.count, $0.destination.prefix == 0 ? 0 : 1, $0.destination.description, $0.metric)
                    < ($1.table, $1.destination.bytes.count, $1.destination.prefix == 0 ? 0 : 1, $1.destination.description, $1.metric)
            }
        }
    }

    /// Adds a route to the main table (`ip route add DEST [via GW] [dev DEV]
    /// [metric N] proto static`). With no `interface` the kernel picks the
    /// one that reaches the gateway.
    public static func addRoute(
        _ destination: IPPrefix, gateway: [UInt8]?, interface: String?, metric: UInt32
    ) throws {
        var index: Int32 = 0
        if let interface { index = try get(interface).index }
        let route = RouteInfo(
            destination: destination.network, gateway: gateway.map(IPPrefix.format), interface: interface ?? "", index: index,
            metric: metric, table: UInt32(VH_RT_TABLE_MAIN), protocolNumber: UInt8(VH_RTPROT_STATIC),
            scope: UInt8(gateway == nil ? VH_RT_SCOPE_LINK : VH_RT_SCOPE_UNIVERSE), type: UInt8(VH_RTN_UNICAST),
            preferredSource: nil)
        try add(route, via: index, exclusive: true)
    }

    /// Adds a route as read by ``routes(allTables:)``, leaving by the link with index `index`.
    static func add(_ route: RouteInfo, via index: Int32, exclusive: Bool) throws {
        try withSocket { socket in
            let result = try withRouteObject(route, index: index) { rtnl_route_add(socket, $0, exclusive ? Int32(VH_NLM_F_CREATE_EXCL) : Int32(VH_NLM_F_CREATE)) }
            if result < 0 {
                var subject = "adding route \(route.destinationText)"
                if let gateway = route.gateway { subject += " via \(gateway)" }
                throw HostNetworkError.netlink(result, subject)
            }
        }
    }

    /// Deletes a route as read by ``routes(allTables:)``; one already gone is no error.
    public static func deleteRoute(_ route: RouteInfo) throws {
        try withSocket { socket in
            let result = try withRouteObject(route, index: route.index) { rtnl_route_delete(socket, $0, 0) }
            if result < 0, -result != NLE_OBJ_NOTFOUND {
                throw HostNetworkError.netlink(result, "deleting route \(route.destinationText)")
            }
        }
    }

    // MARK: Internals

    static func bytes(of address: OpaquePointer) -> [UInt8]? {
        let length = Int(nl_addr_get_len(address))
        guard length == 4 || length == 16, let raw = nl_addr_get_binary_addr(address) else { return nil }
        return Array(UnsafeRawBufferPointer(start: raw, count: length))
    }

    static func nlAddress(_ bytes: [UInt8], prefix: Int) -> OpaquePointer? {
        let address = bytes.withUnsafeBytes { nl_addr_build(bytes.count == 16 ? AF_INET6 : AF_INET, $0.baseAddress, $0.count) }
        if let address { nl_addr_set_prefixlen(address, Int32(prefix)) }
        return address
    }

    private static func withAddressObject(_ address: IPPrefix, index: Int32, _ body: (OpaquePointer) -> Int32) -> Int32 {
        guard let object = rtnl_addr_alloc() else { return -Int32(NLE_NOMEM) }
        defer { rtnl_addr_put(object) }
        rtnl_addr_set_ifindex(object, index)
        rtnl_addr_set_family(object, address.family)
        guard let local = nlAddress(address.bytes, prefix: address.prefix) else { return -Int32(NLE_NOMEM) }
        defer { nl_addr_put(local) }
        _ = rtnl_addr_set_local(object, local)
        rtnl_addr_set_prefixlen(object, Int32(address.prefix))
        return body(object)
    }

    private static func withRouteObject(_ route: RouteInfo, index: Int32, _ body: (OpaquePointer) -> Int32) throws -> Int32 {
        guard let object = rtnl_route_alloc() else { throw HostNetworkError(.failed, "out of memory") }
        defer { rtnl_route_put(object) }
        _ = rtnl_route_set_family(object, UInt8(route.destination.family))
        rtnl_route_set_table(object, route.table)
        rtnl_route_set_protocol(object, route.protocolNumber)
        rtnl_route_set_scope(object, route.scope)
        _ = rtnl_route_set_type(object, route.type)
        rtnl_route_set_priority(object, route.metric)
        guard let dst = nlAddress(route.destination.bytes, prefix: route.destination.prefix) else {
            throw HostNetworkError(.failed, "out of memory")
        }
        defer { nl_addr_put(dst) }
        _ = rtnl_route_set_dst(object, dst)
        if let source = route.preferredSource.flatMap(IPPrefix.bytes), let address = nlAddress(source, prefix: source.count * 8) {
            _ = rtnl_route_set_pref_src(object, address)
            nl_addr_put(address)
        }
        if index != 0 || route.gateway != nil {
            guard let hop = rtnl_route_nh_alloc() else { throw HostNetworkError(.failed, "out of memory") }
            if index != 0 { rtnl_route_nh_set_ifindex(hop, index) }
            if let gateway = route.gateway.flatMap(IPPrefix.bytes), let address = nlAddress(gateway, prefix: gateway.count * 8) {
                rtnl_route_nh_set_gateway(hop, address)
                nl_addr_put(address)
            }
            rtnl_route_add_nexthop(object, hop)  // the route owns it now
        }
        return body(object)
    }
}
