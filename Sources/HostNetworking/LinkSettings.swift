import CNetlink
import Glibc

extension HostLinks {
    /// Sets a link's MTU (`ip link set DEV mtu N`).
    public static func setMTU(_ name: String, _ mtu: UInt32) throws {
        let link = try get(name)
        try withSocket { socket in
            try change(socket, link, "setting the MTU of '\(name)' to \(mtu)") { rtnl_link_set_mtu($0, mtu) }
        }
    }

    /// Sets a link's MAC address (`ip link set DEV address MAC`), 6 bytes.
    static func setMAC(_ name: String, _ mac: String) throws {
        let bytes = mac.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 6 else { return }
        let link = try get(name)
        try withSocket { socket in
            guard let address = bytes.withUnsafeBytes({ nl_addr_build(AF_LLC, $0.baseAddress, 6) }) else {
                throw HostNetworkError(.failed, "out of memory")
            }
            defer { nl_addr_put(address) }
            try change(socket, link, "setting the MAC address of '\(name)'") { rtnl_link_set_addr($0, address) }
        }
    }

    /// Connects `port` to a bridge or bond (`ip link set PORT master MASTER`).
    /// A bond takes only ports that are down: the port is brought down for
    /// the change and up again after it when it was up.
    public static func setMaster(_ port: String, master: String) throws {
        let target = try get(master, what: "bridge or bond")
        switch target.kind {
        case "bridge":
            _ = try addToBridge(bridge: master, port: port)
        case "bond":
            let slave = try get(port)
            if slave.masterIndex != 0 {
                throw HostNetworkError(.wrongState, "'\(port)' is already a port of '\(slave.master)'; run link set \(port) --nomaster first")
            }
            if slave.adminUp { try setUp(port, false) }
            do {
                try withSocket { socket in
                    let result = rtnl_link_bond_enslave_ifindex(socket, target.index, slave.index)
                    if result < 0 { throw HostNetworkError.netlink(result, "enslaving '\(port)' to bond '\(master)'") }
                }
            } catch {
                if slave.adminUp { try? setUp(port, true) }
                throw error
            }
            if slave.adminUp { try setUp(port, true) }
        default:
            throw HostNetworkError(.wrongState, "host interface '\(master)' is a \(target.kind): a master must be a bridge or a bond")
        }
    }

    /// Disconnects a port from its bridge or bond (`ip link set PORT nomaster`);
    /// a port with no master is no error.
    public static func setNoMaster(_ port: String) throws {
        let slave = try get(port)
        guard slave.masterIndex != 0 else { return }
        try withSocket { socket in
            let result = rtnl_link_release_ifindex(socket, slave.index)
            if result < 0 { throw HostNetworkError.netlink(result, "disconnecting '\(port)' from '\(slave.master)'") }
        }
    }

    /// Whether `address` answers an ICMP echo (ICMPv6 for IPv6) sent out of
    /// `interface` within `timeout` milliseconds; one request every 200 ms.
    /// Throws only when the probe cannot be sent at all.
    public static func answersEcho(_ address: [UInt8], interface: String, timeoutMilliseconds: Int32) throws -> Bool {
        let scope: UInt32 = IPPrefix(bytes: address, prefix: address.count * 8).isLinkLocal ? UInt32(bitPattern: try get(interface).index) : 0
        let result = address.withUnsafeBufferPointer {
            vh_icmp_echo($0.baseAddress, Int32($0.count), interface, scope, timeoutMilliseconds)
        }
        if result == 0 { return true }
        if result == -ETIMEDOUT { return false }
        throw HostNetworkError.errno(-result, "sending an ICMP echo to \(IPPrefix.format(address)) through '\(interface)'")
    }
}
