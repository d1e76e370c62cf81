import CNetlink
import Foundation

/// One network link of the host, as `ip -d link` shows it.
public struct LinkInfo: Sendable, Equatable {
    /// The interface name, e.g. `br0`.
    public var name: String
    /// The kernel's interface index.
    public var index: Int32
    /// `bridge`, `tap`, `tun`, `veth`, `vlan`, `bond`, `macvtap`, `loopback`,
    /// `device` (no link kind: a physical or plain device), or the kernel's kind.
    public var kind: String
    /// Lower-case colon-separated hardware address; empty when it has none.
    public var mac: String
    /// The index of the bridge or bond it is enslaved to; 0 for none.
    public var masterIndex: Int32
    /// The name of that master; empty for none.
    public var master: String
    /// RFC 2863 operational state: `up`, `down`, `unknown`, `dormant`...
    public var operState: String
    public var mtu: UInt32
    /// Administratively up (IFF_UP).
    public var adminUp: Bool
    /// For TUN/TAP devices: how they were made.
    public var tap: TapInfo?
    /// For bridges: their ports, sorted.
    public var ports: [String] = []
}

/// How a TUN/TAP device was made (`/sys/class/net/NAME/tun_flags`, `owner`, `group`).
public struct TapInfo: Sendable, Equatable {
    public var isTap: Bool
    public var persistent: Bool
    public var multiQueue: Bool
    public var ownerUID: UInt32?
    public var ownerGID: UInt32?
    /// The raw IFF_* flags.
    public var flags: Int32
}

/// A failed host link operation, with a message that names the link.
public struct HostNetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure, for mapping to a status code.
    public enum Kind: Sendable, Equatable {
        case notFound, alreadyExists, invalid, busy, wrongState, unsupported, permissionDenied, failed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// A libnl error code (negative NLE_*) as an error about `subject`.
    static func netlink(_ code: Int32, _ subject: String) -> HostNetworkError {
        let text = String(cString: nl_geterror(code))
        let kind: Kind
        switch -code {
        case NLE_EXIST: kind = .alreadyExists
        case NLE_OBJ_NOTFOUND, NLE_NODEV: kind = .notFound
        case NLE_INVAL, NLE_RANGE: kind = .invalid
        case NLE_BUSY: kind = .busy
        case NLE_OPNOTSUPP, NLE_AF_NOSUPPORT, NLE_MSGTYPE_NOSUPPORT: kind = .unsupported
        case NLE_PERM, NLE_NOACCESS: kind = .permissionDenied
        default: kind = .failed
        }
        return HostNetworkError(kind, "\(subject): \(text) (netlink error \(-code))")
    }

    /// An errno as an error about `subject`.
    static func errno(_ value: Int32, _ subject: String) -> HostNetworkError {
        let text = String(cString: strerror(value))
        let kind: Kind
        switch value {
        case EEXIST: kind = .alreadyExists
        case ENODEV, ENOENT, ENXIO: kind = .notFound
        case EINVAL, ERANGE: kind = .invalid
        case EBUSY: kind = .busy
        case EPERM, EACCES: kind = .permissionDenied
        case EOPNOTSUPP: kind = .unsupported
        default: kind = .failed
        }
        return HostNetworkError(kind, "\(subject): \(text)")
    }
}

/// The host's network links over rtnetlink (libnl-route-3), and TAP devices
/// over `/dev/net/tun`: what `ip link`, `brctl` and `ip tuntap` do.
///
/// Every call is synchronous and opens its own netlink socket, so calls are
/// safe from any thread; they block for a kernel round trip (microseconds),
/// so callers on an async pool should hop to a thread of their own.
public enum HostLinks {
    /// Bridge, TAP and other link names: 1-15 bytes of letters, digits, '.',
    /// '-', '_' and '+', not "." or "..". The kernel takes more (anything but
    /// '/', ':' and whitespace), but names with quotes or '<' break the XML,
    /// shells and tools operators use next to us. Returns the problem, or nil.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > 15 { return "'\(name.prefix(32))' is longer than 15 bytes (the kernel's IFNAMSIZ)" }
        if name == "." || name == ".." { return "'\(name)' is not a usable interface name" }
        for scalar in name.unicodeScalars {
            let ok = scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_+".unicodeScalars.contains(scalar))
            guard ok else {
                return "'\(name.prefix(32))' has a character an interface name should not hold; use letters, digits, '.', '-', '_', '+'"
            }
        }
        return nil
    }

    // MARK: Reading

    /// Every link of the host, sorted by index.
    public static func list() throws -> [LinkInfo] {
        try withSocket { socket in
            var cache: OpaquePointer?
            let result = rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache)
            guard result >= 0, let cache else { throw HostNetworkError.netlink(result, "listing links") }
            defer { nl_cache_free(cache) }
            var links: [LinkInfo] = []
            var object = nl_cache_get_first(cache)
            while let current = object {
                links.append(info(current))
                object = nl_cache_get_next(current)
            }
            let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
            var ports: [Int32: [String]] = [:]
            for i in links.indices where links[i].masterIndex != 0 {
                links[i].master = names[links[i].masterIndex] ?? ""
                ports[links[i].masterIndex, default: []].append(links[i].name)
            }
            for i in links.indices where links[i].kind == "bridge" {
                links[i].ports = (ports[links[i].index] ?? []).sorted()
            }
            return links.sorted { $0.index < $1.index }
        }
    }

    /// One link by name, or nil when there is none.
    public static func find(_ name: String) throws -> LinkInfo? {
        try list().first { $0.name == name }
    }

    /// One link by name; throws `notFound` naming `what` when there is none.
    public static func get(_ name: String, what: String = "interface") throws -> LinkInfo {
        guard let link = try find(name) else {
            throw HostNetworkError(.notFound, "host \(what) '\(name)' does not exist")
        }
        return link
    }

    // MARK: Bridges

    /// Creates a bridge, up unless `up` is false (`ip link add NAME type bridge` + `up`).
    public static func createBridge(_ name: String, mtu: UInt32 = 0, stp: Bool = false, up: Bool = true) throws -> LinkInfo {
        try requireAbsent(name)
        try create(name, what: "bridge") { link in
            guard rtnl_link_set_type(link, "bridge") >= 0 else {
                throw HostNetworkError(.unsupported, "this kernel has no bridge support")
            }
            if mtu > 0 { rtnl_link_set_mtu(link, mtu) }
            if up { rtnl_link_set_flags(link, UInt32(VH_IFF_UP)) }
        }
        if stp {
            do {
                try writeSysfs("/sys/class/net/\(name)/bridge/stp_state", "1")
            } catch {
                try? delete(name)
                throw error
            }
        }
        return try get(name, what: "bridge")
    }

    /// Whether spanning tree is on for a bridge.
    public static func bridgeSTP(_ name: String) -> Bool {
        (try? String(contentsOfFile: "/sys/class/net/\(name)/bridge/stp_state", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Connects `port` to `bridge` (`brctl addif`).
    public static func addToBridge(bridge: String, port: String) throws -> LinkInfo {
        let master = try get(bridge, what: "bridge")
        guard master.kind == "bridge" else {
            throw HostNetworkError(.wrongState, "host interface '\(bridge)' is not a bridge (it is a \(master.kind))")
        }
        let slave = try get(port)
        if slave.masterIndex == master.index {
            throw HostNetworkError(.alreadyExists, "'\(port)' is already a port of bridge '\(bridge)'")
        }
        if slave.masterIndex != 0 {
            throw HostNetworkError(
                .wrongState, "'\(port)' is already a port of '\(slave.master)'; disconnect it from there first")
        }
        if slave.kind == "bridge" {
            throw HostNetworkError(.invalid, "'\(port)' is a bridge; a bridge cannot be a port of another bridge")
        }
        if slave.kind == "loopback" {
            throw HostNetworkError(.invalid, "'\(port)' is the loopback device; it cannot join a bridge")
        }
        try withSocket { socket in
            let result = rtnl_link_enslave_ifindex(socket, master.index, slave.index)
            if result < 0 { throw HostNetworkError.netlink(result, "connecting '\(port)' to bridge '\(bridge)'") }
        }
        return try get(port)
    }

    /// Disconnects `port` from `bridge` (`brctl delif`).
    public static func removeFromBridge(bridge: String, port: String) throws -> LinkInfo {
        let master = try get(bridge, what: "bridge")
        guard master.kind == "bridge" else {
            throw HostNetworkError(.wrongState, "host interface '\(bridge)' is not a bridge (it is a \(master.kind))")
        }
        let slave = try get(port)
        guard slave.masterIndex == master.index else {
            throw HostNetworkError(.wrongState, "'\(port)' is not a port of bridge '\(bridge)'")
        }
        try withSocket { socket in
            let result = rtnl_link_release_ifindex(socket, slave.index)
            if result < 0 { throw HostNetworkError.netlink(result, "disconnecting '\(port)' from bridge '\(bridge)'") }
        }
        return try get(port)
    }

    // MARK: TAP devices

    /// Creates a persistent TAP device (`ip tuntap add NAME mode tap`),
    /// optionally for a uid/gid, multi-queue, with an MTU, connected to a
    /// bridge, and up. Anything that fails after the device exists removes it.
    public static func createTap(
        _ name: String, ownerUID: UInt32? = nil, ownerGID: UInt32? = nil, multiQueue: Bool = false,
        mtu: UInt32 = 0, bridge: String? = nil
    ) throws -> LinkInfo {
        try requireAbsent(name)
        if let bridge {
            let master = try get(bridge, what: "bridge")
            guard master.kind == "bridge" else {
                throw HostNetworkError(.wrongState, "host interface '\(bridge)' is not a bridge (it is a \(master.kind))")
            }
        }
        let result = vh_tap_create(name, multiQueue ? 1 : 0, ownerUID.map { Int($0) } ?? -1, ownerGID.map { Int($0) } ?? -1)
        if result < 0 { throw HostNetworkError.errno(-result, "creating TAP device '\(name)'") }
        do {
            let tap = try get(name, what: "TAP device")
            try withSocket { socket in
                try change(socket, tap, "setting up TAP device '\(name)'") { link in
                    if mtu > 0 { rtnl_link_set_mtu(link, mtu) }
                    rtnl_link_set_flags(link, UInt32(VH_IFF_UP))
                }
            }
            if let bridge { _ = try addToBridge(bridge: bridge, port: name) }
            return try get(name, what: "TAP device")
        } catch {
            try? deleteTap(name)
            throw error
        }
    }

    /// Deletes a persistent TAP (or TUN) device (`ip tuntap del`). A device
    /// that is not persistent belongs to the process that opened it (a running
    /// machine's vnetN) and is refused, as is one a process holds open.
    public static func deleteTap(_ name: String) throws {
        let link = try get(name, what: "TAP device")
        guard let tap = link.tap else {
            throw HostNetworkError(.wrongState, "host interface '\(name)' is not a TAP device (it is a \(link.kind))")
        }
        guard tap.persistent else {
            throw HostNetworkError(
                .wrongState,
                "TAP device '\(name)' is not persistent: it belongs to the process that opened it (a running machine?)")
        }
        let result = vh_tap_unpersist(name, tap.flags)
        if result == -EBUSY {
            throw HostNetworkError(.busy, "TAP device '\(name)' is open by a process (a running machine?); close it first")
        }
        if result < 0 { throw HostNetworkError.errno(-result, "deleting TAP device '\(name)'") }
        if try find(name) != nil {
            throw HostNetworkError(
                .busy,
                "TAP device '\(name)' is open by a process: it is no longer persistent and goes away when that process closes it")
        }
    }

    // MARK: VLANs and bonds

    /// Creates an 802.1Q VLAN link on `parent` (`ip link add link PARENT name NAME type vlan id ID`).
    public static func createVlan(_ name: String, parent: String, id: UInt16, up: Bool = false) throws -> LinkInfo {
        try requireAbsent(name)
        let lower = try get(parent)
        try create(name, what: "VLAN interface", kindName: "vlan", kernelModule: "8021q") { link in
            guard rtnl_link_set_type(link, "vlan") >= 0 else {
                throw HostNetworkError(.unsupported, "libnl has no VLAN support")
            }
            rtnl_link_set_link(link, lower.index)
            _ = rtnl_link_vlan_set_id(link, id)
            if up { rtnl_link_set_flags(link, UInt32(VH_IFF_UP)) }
        }
        return try get(name, what: "VLAN interface")
    }

    /// Creates a bond (`ip link add NAME type bond`), sets its mode and
    /// enslaves `ports`; anything that fails removes the bond again.
    public static func createBond(_ name: String, mode: String = "", ports: [String] = [], up: Bool = false) throws -> LinkInfo {
        try requireAbsent(name)
        let slaves = try ports.map { try get($0) }
        for slave in slaves where slave.masterIndex != 0 {
            throw HostNetworkError(.wrongState, "'\(slave.name)' is already enslaved to '\(slave.master)'")
        }
        try create(name, what: "bond", kindName: "bond", kernelModule: "bonding") { link in
            guard rtnl_link_set_type(link, "bond") >= 0 else {
                throw HostNetworkError(.unsupported, "libnl has no bonding support")
            }
        }
        do {
            if !mode.isEmpty { try writeSysfs("/sys/class/net/\(name)/bonding/mode", mode) }
            let bond = try get(name, what: "bond")
            try withSocket { socket in
                // A bond takes only ports that are down: down each one for
                // the change and up again after it when it was up.
                for slave in slaves {
                    if slave.adminUp {
                        try change(socket, slave, "bringing '\(slave.name)' down to enslave it") { rtnl_link_unset_flags($0, UInt32(VH_IFF_UP)) }
                    }
                    let result = rtnl_link_bond_enslave_ifindex(socket, bond.index, slave.index)
                    if result < 0 {
                        if slave.adminUp { try? change(socket, slave, "bringing '\(slave.name)' up again") { rtnl_link_set_flags($0, UInt32(VH_IFF_UP)) } }
                        throw HostNetworkError.netlink(result, "enslaving '\(slave.name)' to bond '\(name)'")
                    }
                    if slave.adminUp {
                        try change(socket, slave, "bringing '\(slave.name)' up again") { rtnl_link_set_flags($0, UInt32(VH_IFF_UP)) }
                    }
                }
                if up {
                    try change(socket, bond, "bringing bond '\(name)' up") { rtnl_link_set_flags($0, UInt32(VH_IFF_UP)) }
                }
            }
            return try get(name, what: "bond")
        } catch {
            try? delete(name)
            throw error
        }
    }

    /// Creates a veth pair (`ip link add NAME type veth peer name PEER`), both down.
    public static func createVeth(_ name: String, peer: String) throws -> LinkInfo {
        try requireAbsent(name)
        try requireAbsent(peer)
        try withSocket { socket in
            let result = rtnl_link_veth_add(socket, name, peer, getpid())
            if result < 0 { throw HostNetworkError.netlink(result, "creating veth pair '\(name)'/'\(peer)'") }
        }
        return try get(name)
    }

    /// Sets a link administratively up or down (`ip link set NAME up|down`).
    public static func setUp(_ name: String, _ up: Bool) throws {
        let link = try get(name)
        try withSocket { socket in
            try change(socket, link, "setting '\(name)' \(up ? "up" : "down")") { change in
                if up {
                    rtnl_link_set_flags(change, UInt32(VH_IFF_UP))
                } else {
                    rtnl_link_unset_flags(change, UInt32(VH_IFF_UP))
                }
            }
        }
    }

    /// Deletes a link of any kind (`ip link del NAME`); callers check the kind.
    public static func delete(_ name: String) throws {
        let existing = try get(name)
        try withSocket { socket in
            guard let link = rtnl_link_alloc() else { throw HostNetworkError(.failed, "out of memory") }
            defer { rtnl_link_put(link) }
            rtnl_link_set_ifindex(link, existing.index)
            rtnl_link_set_name(link, name)
            let result = rtnl_link_delete(socket, link)
            if result < 0 { throw HostNetworkError.netlink(result, "deleting '\(name)'") }
        }
    }

    // MARK: Internals

    static func requireAbsent(_ name: String) throws {
        if let problem = nameProblem(name) { throw HostNetworkError(.invalid, "interface name \(problem)") }
        if let existing = try find(name) {
            throw HostNetworkError(.alreadyExists, "host interface '\(name)' already exists (a \(existing.kind))")
        }
    }

    /// Sends RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL for a link `configure` describes.
    private static func create(
        _ name: String, what: String, kindName: String? = nil, kernelModule: String? = nil,
        _ configure: (OpaquePointer) throws -> Void
    ) throws {
        try withSocket { socket in
            guard let link = rtnl_link_alloc() else { throw HostNetworkError(.failed, "out of memory") }
            defer { rtnl_link_put(link) }
            rtnl_link_set_name(link, name)
            try configure(link)
            let result = rtnl_link_add(socket, link, Int32(VH_NLM_F_CREATE_EXCL))
            if result < 0 {
                if -result == NLE_OPNOTSUPP, let kindName, let kernelModule {
                    throw HostNetworkError(
                        .unsupported,
                        "creating \(what) '\(name)': this kernel cannot make '\(kindName)' links "
                            + "(no \(kernelModule) support; the kernel answered 'Operation not supported')")
                }
                throw HostNetworkError.netlink(result, "creating \(what) '\(name)'")
            }
        }
    }

    /// Changes a link: `edit` sets what changes on a fresh request object.
    static func change(_ socket: OpaquePointer, _ existing: LinkInfo, _ what: String, _ edit: (OpaquePointer) -> Void) throws {
        guard let original = rtnl_link_alloc(), let changes = rtnl_link_alloc() else {
            throw HostNetworkError(.failed, "out of memory")
        }
        defer {
            rtnl_link_put(original)
            rtnl_link_put(changes)
        }
        rtnl_link_set_ifindex(original, existing.index)
        rtnl_link_set_name(original, existing.name)
        edit(changes)
        let result = rtnl_link_change(socket, original, changes, 0)
        if result < 0 { throw HostNetworkError.netlink(result, what) }
    }

    static func withSocket<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        guard let socket = nl_socket_alloc() else { throw HostNetworkError(.failed, "cannot allocate a netlink socket") }
        defer { nl_socket_free(socket) }
        let result = nl_connect(socket, Int32(NETLINK_ROUTE))
        if result < 0 { throw HostNetworkError.netlink(result, "connecting to rtnetlink") }
        return try body(socket)
    }

    private static func info(_ link: OpaquePointer) -> LinkInfo {
        let name = rtnl_link_get_name(link).map { String(cString: $0) } ?? ""
        let flags = rtnl_link_get_flags(link)
        var kind = rtnl_link_get_type(link).map { String(cString: $0) } ?? ""
        if kind.isEmpty { kind = flags & UInt32(VH_IFF_LOOPBACK) != 0 ? "loopback" : "device" }
        var tap: TapInfo?
        if kind == "tun" || FileManager.default.fileExists(atPath: "/sys/class/net/\(name)/tun_flags") {
            tap = tapInfo(name)
            if let tap { kind = tap.isTap ? "tap" : "tun" }
        }
        var mac = ""
        if let address = rtnl_link_get_addr(link), nl_addr_get_len(address) == 6,
            let bytes = nl_addr_get_binary_addr(address)
        {
            let raw = bytes.assumingMemoryBound(to: UInt8.self)
            mac = (0..<6).map { String(format: "%02x", raw[$0]) }.joined(separator: ":")
        }
        var state = [CChar](repeating: 0, count: 32)
        _ = rtnl_link_operstate2str(rtnl_link_get_operstate(link), &state, state.count)
        let operState = state.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.lowercased()
        return LinkInfo(
            name: name, index: rtnl_link_get_ifindex(link), kind: kind, mac: mac,
            masterIndex: rtnl_link_get_master(link), master: "", operState: operState,
            mtu: rtnl_link_get_mtu(link), adminUp: flags & UInt32(VH_IFF_UP) != 0, tap: tap)
    }

    private static func tapInfo(_ name: String) -> TapInfo? {
        func read(_ file: String) -> String? {
            (try? String(contentsOfFile: "/sys/class/net/\(name)/\(file)", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let raw = read("tun_flags"), let flags = Int32(raw.replacingOccurrences(of: "0x", with: ""), radix: 16) else {
            return nil
        }
        func id(_ file: String) -> UInt32? { read(file).flatMap { Int64($0) }.flatMap { $0 < 0 ? nil : UInt32(exactly: $0) } }
        return TapInfo(
            isTap: flags & Int32(VH_IFF_TAP) != 0, persistent: flags & Int32(VH_IFF_PERSIST) != 0,
            multiQueue: flags & Int32(VH_IFF_MULTI_QUEUE) != 0, ownerUID: id("owner"), ownerGID: id("group"),
            flags: flags)
    }

    static func writeSysfs(_ path: String, _ value: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw HostNetworkError.errno(Glibc.errno, "opening \(path)") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        if write(fd, bytes, bytes.count) < 0 { throw HostNetworkError.errno(Glibc.errno, "writing '\(value)' to \(path)") }
    }
}

/// An address block the host already uses: an interface address or a route.
public struct HostSubnet: Sendable, Equatable {
    /// The interface it is on.
    public var interface: String
    /// 4 or 16 address bytes.
    public var address: [UInt8]
    public var prefix: Int
    /// "address" for an interface address, "route" for a routing table entry.
    public var source: String
}

extension HostLinks {
    /// The host's IPv4 and IPv6 interface addresses with their prefixes
    /// (link-local IPv6 left out: every interface has one), and its IPv4
    /// routes other than the default: the subnets a new network must not take.
    public static func subnets() -> [HostSubnet] {
        var result: [HostSubnet] = []
        var list: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&list) == 0, let list {
            defer { freeifaddrs(list) }
            var cursor: UnsafeMutablePointer<ifaddrs>? = list
            while let entry = cursor?.pointee {
                cursor = entry.ifa_next
                guard let address = entry.ifa_addr, let netmask = entry.ifa_netmask else { continue }
                let name = String(cString: entry.ifa_name)
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                    let mask = netmask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                    result.append(HostSubnet(interface: name, address: bytes, prefix: mask.reduce(0) { $0 + $1.nonzeroBitCount }, source: "address"))
                case AF_INET6:
                    let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
                    let mask = netmask.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
                    if bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 { continue }  // fe80::/10
                    result.append(HostSubnet(interface: name, address: bytes, prefix: mask.reduce(0) { $0 + $1.nonzeroBitCount }, source: "address"))
                default:
                    continue
                }
            }
        }
        // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ..., addresses little-endian hex.
        if let table = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) {
            for line in table.split(separator: "\n").dropFirst() {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 8, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16),
                    mask != 0
                else { continue }
                let bytes = withUnsafeBytes(of: destination.littleEndian) { Array($0) }
                result.append(HostSubnet(interface: String(fields[0]), address: bytes, prefix: mask.nonzeroBitCount, source: "route"))
            }
        }
        return result
    }
}
