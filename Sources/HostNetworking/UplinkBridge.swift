import CNetlink
import Glibc

/// What an uplink looked like before a bridge went over it: everything
/// ``UplinkBridge/rollBack(_:)`` needs to put it back exactly. Codable so the
/// agent can keep it in its state database until the change is confirmed.
public struct UplinkSnapshot: Sendable, Equatable, Codable {
    /// The bridge the change makes, and whether it existed before (never,
    /// today: the change makes it; kept so rollback never deletes a bridge
    /// it did not make).
    public var bridge: String
    public var bridgeExisted: Bool
    public var uplink: String
    public var uplinkIndex: Int32
    public var mtu: UInt32
    public var adminUp: Bool
    public var mac: String
    /// The uplink's addresses other than IPv6 link-local (the kernel's own).
    public var addresses: [AddressInfo]
    /// Routes through the uplink in every table but `local`, other than
    /// the ones the kernel makes for an address (proto kernel).
    public var routes: [RouteInfo]
}

/// Putting a bridge over a host's uplink and taking it away again, over
/// rtnetlink: the step that cuts a host off when it goes wrong, so every
/// step is undone on failure (like oVirt VDSM's setupNetworks rollback).
///
/// The order: snapshot the uplink; create the bridge down with the uplink's
/// MTU and MAC (peers' ARP caches stay right); remove the uplink's routes and
/// addresses; enslave it; put the addresses on the bridge; bring it up; put
/// the routes back through the bridge with their metrics. Rollback deletes
/// the bridge (the kernel drops its addresses and routes and releases its
/// ports with it) and restores the uplink's MTU, state, addresses (flags,
/// scope, remaining lifetimes) and routes.
public enum UplinkBridge {
    /// Reads what a bridge over `uplink` would change; refuses an uplink
    /// that cannot carry one (missing, already enslaved, a bridge, loopback,
    /// a TAP) and a bridge name already taken.
    public static func snapshot(bridge: String, uplink: String) throws -> UplinkSnapshot {
        try HostLinks.requireAbsent(bridge)
        let link = try HostLinks.get(uplink, what: "uplink")
        if link.masterIndex != 0 {
            throw HostNetworkError(.wrongState, "uplink '\(uplink)' is already enslaved to '\(link.master)'; release it there first")
        }
        switch link.kind {
        case "bridge": throw HostNetworkError(.invalid, "'\(uplink)' is a bridge; a bridge cannot be the uplink of another bridge")
        case "loopback": throw HostNetworkError(.invalid, "'\(uplink)' is the loopback device; it cannot be an uplink")
        case "tap", "tun": throw HostNetworkError(.invalid, "'\(uplink)' is a \(link.kind) device, not an uplink; use tap add --bridge")
        default: break
        }
        let addresses = try HostLinks.addresses(interface: uplink).filter { !$0.isLinkLocal }
        let routes = try HostLinks.routes().filter {
            $0.index == link.index && $0.protocolNumber != UInt8(VH_RTPROT_KERNEL) && !$0.destination.isLinkLocal
                && !($0.destination.isIPv6 && $0.destination.bytes[0] == 0xff)
        }
        return UplinkSnapshot(
            bridge: bridge, bridgeExisted: false, uplink: uplink, uplinkIndex: link.index, mtu: link.mtu, adminUp: link.adminUp,
            mac: link.mac, addresses: addresses, routes: routes)
    }

    /// Makes the change the snapshot describes. On a failed step it rolls
    /// back before throwing (the error names the step, and the rollback's
    /// own failure when it has one).
    public static func apply(_ snapshot: UplinkSnapshot) throws {
        do {
            let bridge = try HostLinks.createBridge(snapshot.bridge, mtu: snapshot.mtu, stp: false, up: false)
            // No spanning tree: the port forwards at once, so the check does not wait out the forward delay.
            try? HostLinks.writeSysfs("/sys/class/net/\(snapshot.bridge)/bridge/forward_delay", "0")
            if !snapshot.mac.isEmpty { try HostLinks.setMAC(snapshot.bridge, snapshot.mac) }
            for route in snapshot.routes { try HostLinks.deleteRoute(route) }
            for address in snapshot.addresses { try HostLinks.remove(address, from: snapshot.uplinkIndex) }
            _ = try HostLinks.addToBridge(bridge: snapshot.bridge, port: snapshot.uplink)
            if !snapshot.adminUp { try HostLinks.setUp(snapshot.uplink, true) }
            for address in snapshot.addresses {
                var moved = address
                moved.interface = snapshot.bridge
                try HostLinks.add(moved, onto: bridge.index, exclusive: false)
            }
            try HostLinks.setUp(snapshot.bridge, true)
            for route in snapshot.routes {
                var moved = route
                moved.interface = snapshot.bridge
                try HostLinks.add(moved, via: bridge.index, exclusive: false)
            }
        } catch let error as HostNetworkError {
            throw withRollback(snapshot, error)
        }
    }

    /// Checks that every address answers an ICMP echo through the bridge
    /// within `timeoutMilliseconds` (all checks run in that one budget);
    /// returns the addresses that did not.
    public static func unreachable(_ addresses: [[UInt8]], bridge: String, timeoutMilliseconds: Int32) throws -> [String] {
        var silent: [String] = []
        let end = monotonicMilliseconds() + Int64(timeoutMilliseconds)
        for address in addresses {
            let left = Int32(clamping: max(1, end - monotonicMilliseconds()))
            if try !HostLinks.answersEcho(address, interface: bridge, timeoutMilliseconds: left) {
                silent.append(IPPrefix.format(address))
            }
        }
        return silent
    }

    /// Puts the uplink back as the snapshot has it and deletes the bridge
    /// when the change made it. Safe to run again, and after a crash at any
    /// step: what is already back is left alone. Throws the steps that failed.
    public static func rollBack(_ snapshot: UplinkSnapshot) throws {
        var failures: [String] = []
        func step(_ body: () throws -> Void) {
            do { try body() } catch { failures.append("\(error)") }
        }
        if !snapshot.bridgeExisted, let bridge = try? HostLinks.find(snapshot.bridge), bridge.kind == "bridge" {
            step { try HostLinks.delete(snapshot.bridge) }
        }
        guard let uplink = try? HostLinks.find(snapshot.uplink) else {
            throw HostNetworkError(.failed, "rolling back: uplink '\(snapshot.uplink)' is gone")
        }
        if uplink.masterIndex != 0, uplink.master == snapshot.bridge { step { try HostLinks.setNoMaster(snapshot.uplink) } }
        if uplink.mtu != snapshot.mtu { step { try HostLinks.setMTU(snapshot.uplink, snapshot.mtu) } }
        if uplink.adminUp != snapshot.adminUp { step { try HostLinks.setUp(snapshot.uplink, snapshot.adminUp) } }
        let present = Set(((try? HostLinks.addresses(interface: snapshot.uplink)) ?? []).map(\.local))
        for address in snapshot.addresses where !present.contains(address.local) {
            step { try HostLinks.add(address, onto: uplink.index, exclusive: false) }
        }
        let routes = (try? HostLinks.routes()) ?? []
        for route in snapshot.routes {
            let there = routes.contains {
                $0.index == uplink.index && $0.destination == route.destination && $0.metric == route.metric && $0.table == route.table
            }
            if !there { step { try HostLinks.add(route, via: uplink.index, exclusive: false) } }
        }
        if !failures.isEmpty {
            throw HostNetworkError(.failed, "rolling back '\(snapshot.bridge)' over '\(snapshot.uplink)': " + failures.joined(separator: "; "))
        }
    }

    /// Takes a bridge away from its uplink (the reverse of ``apply(_:)``):
    /// moves the bridge's addresses and routes back to `uplink`, releases it
    /// and deletes the bridge. Refuses a bridge with ports other than the
    /// uplink (machines' NICs); a failed step puts the bridge back.
    public static func restoreUplink(bridge: String, uplink: String? = nil) throws {
        let link = try HostLinks.get(bridge, what: "bridge")
        guard link.kind == "bridge" else {
            throw HostNetworkError(.wrongState, "host interface '\(bridge)' is not a bridge (it is a \(link.kind))")
        }
        let ports = try HostLinks.list().filter { $0.masterIndex == link.index }
        let physical = ports.filter { $0.tap == nil }
        let target: LinkInfo
        if let uplink {
            guard let port = ports.first(where: { $0.name == uplink }) else {
                throw HostNetworkError(.wrongState, "'\(uplink)' is not a port of bridge '\(bridge)'")
            }
            target = port
        } else {
            guard physical.count == 1 else {
                throw HostNetworkError(
                    .wrongState, physical.isEmpty ? "bridge '\(bridge)' has no uplink port to restore"
                        : "bridge '\(bridge)' has several possible uplinks (\(physical.map(\.name).joined(separator: ", "))); name one")
            }
            target = physical[0]
        }
        let others = ports.filter { $0.name != target.name }.map(\.name)
        if !others.isEmpty {
            throw HostNetworkError(.wrongState, "bridge '\(bridge)' still has ports other than its uplink (\(others.joined(separator: ", "))); remove them first")
        }
        // The reverse is the same move with the roles swapped: a snapshot of the bridge side.
        let addresses = try HostLinks.addresses(interface: bridge).filter { !$0.isLinkLocal }
        let routes = try HostLinks.routes().filter {
            $0.index == link.index && $0.protocolNumber != UInt8(VH_RTPROT_KERNEL) && !$0.destination.isLinkLocal
                && !($0.destination.isIPv6 && $0.destination.bytes[0] == 0xff)
        }
        let back = UplinkSnapshot(
            bridge: bridge, bridgeExisted: true, uplink: bridge, uplinkIndex: link.index, mtu: link.mtu, adminUp: link.adminUp,
            mac: link.mac, addresses: addresses, routes: routes)
        do {
            for route in routes { try HostLinks.deleteRoute(route) }
            for address in addresses { try HostLinks.remove(address, from: link.index) }
            try HostLinks.setNoMaster(target.name)
            for address in addresses {
                var moved = address
                moved.interface = target.name
                try HostLinks.add(moved, onto: target.index, exclusive: false)
            }
            for route in routes {
                var moved = route
                moved.interface = target.name
                try HostLinks.add(moved, via: target.index, exclusive: false)
            }
        } catch let error as HostNetworkError {
            // Put the bridge side back: the uplink in the bridge, the addresses and routes on it.
            for route in routes { try? HostLinks.deleteRoute(RouteInfo(
                destination: route.destination, gateway: route.gateway, interface: target.name, index: target.index, metric: route.metric,
                table: route.table, protocolNumber: route.protocolNumber, scope: route.scope, type: route.type,
                preferredSource: route.preferredSource)) }
            for address in addresses { try? HostLinks.remove(address, from: target.index) }
            if (try? HostLinks.find(target.name))?.masterIndex == 0 { _ = try? HostLinks.addToBridge(bridge: bridge, port: target.name) }
            var restoreFailure = ""
            do { try rollBack(back) } catch { restoreFailure = "; putting the bridge back failed too: \(error)" }
            throw HostNetworkError(error.kind, "restoring uplink '\(target.name)' from '\(bridge)': \(error.message)\(restoreFailure)")
        }
        try HostLinks.delete(bridge)
    }

    // MARK: Internals

    private static func withRollback(_ snapshot: UplinkSnapshot, _ error: HostNetworkError) -> HostNetworkError {
        do {
            try rollBack(snapshot)
            return HostNetworkError(error.kind, "\(error.message); everything was rolled back")
        } catch let rollback {
            return HostNetworkError(.failed, "\(error.message); and the rollback failed: \(rollback)")
        }
    }

    static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
